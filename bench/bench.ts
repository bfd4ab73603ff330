/**
 * The benchmark harness: runs every registered section and reports its figures against
 * their goals.
 *
 *   node --expose-gc build/bench/bench.js          a table: key, value, goal, ok/MISS
 *   node --expose-gc build/bench/bench.js --json   exactly one JSON object on stdout
 *   ... --only crypto,mm                           run just the named sections
 *
 * A section is a module bench/<name>.ts exporting
 *   export async function run(): Promise<Record<string, number>>;
 *   export const goals: Goals;   // e.g. { line_ratio: { min: 0.08 } }
 * Keys must be unique across sections. To add a section, add ONE line to SECTIONS below.
 * Anything a section prints goes to stderr, so --json output stays clean.
 *
 * Each section runs in a fresh node process of its own (this file again, with the same
 * node flags, `--section NAME`), so no section's figures depend on which ran before it:
 * in one process, the machine's hot code has seen every earlier section's objects by the
 * time a later one runs (the memory section measured a quarter slower after blk than
 * alone), and node:crypto's own rate, the memory section's baseline, moved with it too.
 */
import 'source-map-support/register.js';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Goal, Goals, SectionModule } from './types.js';

const SECTIONS: Array<[name: string, load: () => Promise<SectionModule>]> = [
  ['crypto', () => import('./crypto.js')],
  ['machine', () => import('./machine.js')],
  ['boot', () => import('./boot.js')],
  ['boottime', () => import('./boottime.js')],
  ['blk', () => import('./blk.js')],
  ['fuzz', () => import('./fuzz.js')],
  ['memory', () => import('./memory.js')],
  ['bigboot', () => import('./bigboot.js')],
  ['vmx', () => import('./vmx.js')],
  ['guest', () => import('./guest.js')],
];

interface Row { section: string; key: string; value: number; goal?: Goal; ok: boolean }

function meets(value: number, goal: Goal | undefined): boolean {
  if (!goal) return true;
  if (!Number.isFinite(value)) return false;
  if (goal.min !== undefined && value < goal.min) return false;
  if (goal.max !== undefined && value > goal.max) return false;
  return true;
}

function goalText(goal: Goal | undefined): string {
  if (!goal) return '';
  const parts: string[] = [];
  if (goal.min !== undefined) parts.push(`>= ${goal.min}`);
  if (goal.max !== undefined) parts.push(`<= ${goal.max}`);
  return parts.join(', ');
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 100) return v.toFixed(1);
  if (Math.abs(v) >= 1) return v.toFixed(3);
  return v.toPrecision(3);
}

/** What a section's process prints on stdout: its figures and goals, or its failure. */
interface SectionReport { result?: Record<string, number>; goals: Goals; error?: string }

/** In a section's own process: run it and print its report as one JSON line. */
async function runSection(name: string): Promise<number> {
  const entry = SECTIONS.find(([s]) => s === name);
  if (!entry) { process.stderr.write(`bench: unknown section ${name}\n`); return 2; }
  const realLog = console.log;
  console.log = (...args: unknown[]) => console.error(...args);
  let report: SectionReport;
  try {
    (globalThis as { gc?: () => void }).gc?.();
    const mod = await entry[1]();
    try {
      report = { result: await mod.run(), goals: mod.goals };
    } catch (err) {
      report = { goals: mod.goals, error: String((err as Error)?.stack ?? err) };
    }
  } finally {
    console.log = realLog;
  }
  process.stdout.write(JSON.stringify(report) + '\n');
  return 0;
}

/** Run section `name` in a fresh process (this file, the same node flags). */
function spawnSection(name: string): SectionReport {
  const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--section', name],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 16 << 20 });
  const last = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as SectionReport;
  } catch {
    return { goals: {}, error: `its process ended (status ${r.status}, signal ${r.signal}) without a report` };
  }
}

async function main(argv: string[]): Promise<number> {
  const sectionAt = argv.indexOf('--section');
  if (sectionAt >= 0) return runSection(argv[sectionAt + 1] ?? '');
  const json = argv.includes('--json');
  const onlyAt = argv.indexOf('--only');
  const only = onlyAt >= 0 ? new Set((argv[onlyAt + 1] ?? '').split(',').filter(Boolean)) : null;
  const unknown = only ? [...only].filter((n) => !SECTIONS.some(([s]) => s === n)) : [];
  if (unknown.length) {
    process.stderr.write(`bench: unknown section(s): ${unknown.join(', ')}\n`);
    return 2;
  }
  const rows: Row[] = [];
  const seen = new Map<string, string>();
  let failed = false;
  for (const [name] of SECTIONS) {
    if (only && !only.has(name)) continue;
    const { result, goals, error } = spawnSection(name);
    if (result === undefined) {
      process.stderr.write(`bench: section ${name} failed: ${error}\n`);
      failed = true;
      continue;
    }
    for (const [key, value] of Object.entries(result)) {
      const prev = seen.get(key);
      if (prev) throw new Error(`bench: key ${key} reported by both ${prev} and ${name}`);
      seen.set(key, name);
      const goal = goals[key];
      rows.push({ section: name, key, value, goal, ok: meets(value, goal) });
    }
    for (const key of Object.keys(goals)) {
      if (!(key in result)) rows.push({ section: name, key, value: NaN, goal: goals[key], ok: false });
    }
  }

  if (json) {
    const out: Record<string, number | null> = {};
    for (const r of rows) out[r.key] = Number.isFinite(r.value) ? r.value : null;
    process.stdout.write(JSON.stringify(out) + '\n');
  } else {
    const head = ['section', 'key', 'value', 'goal', ''];
    const body = rows.map((r) => [r.section, r.key, fmt(r.value), goalText(r.goal), r.goal ? (r.ok ? 'ok' : 'MISS') : '']);
    const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
    const line = (cells: string[]) => cells.map((c, i) => (i === 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
    process.stdout.write([line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n') + '\n');
    const missed = rows.filter((r) => r.goal && !r.ok).length;
    process.stdout.write(`${rows.length} figures, ${missed} goal(s) missed${failed ? ', some sections failed' : ''}\n`);
  }
  return failed ? 1 : 0;
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err) => {
  process.stderr.write(`${(err as Error)?.stack ?? err}\n`);
  process.exitCode = 1;
});
