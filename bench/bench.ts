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
 *   export const goals: Goals;   // e.g. { page_ratio: { min: 0.35 } }
 * Keys must be unique across sections. To add a section, add ONE line to SECTIONS below.
 * Anything a section prints goes to stderr, so --json output stays clean.
 */
import 'source-map-support/register.js';
import type { Goal, SectionModule } from './types.js';

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

async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const onlyAt = argv.indexOf('--only');
  const only = onlyAt >= 0 ? new Set((argv[onlyAt + 1] ?? '').split(',').filter(Boolean)) : null;
  const unknown = only ? [...only].filter((n) => !SECTIONS.some(([s]) => s === n)) : [];
  if (unknown.length) {
    process.stderr.write(`bench: unknown section(s): ${unknown.join(', ')}\n`);
    return 2;
  }
  // Sections may log; keep stdout for the report alone.
  const realLog = console.log;
  console.log = (...args: unknown[]) => console.error(...args);

  const rows: Row[] = [];
  const seen = new Map<string, string>();
  let failed = false;
  try {
    for (const [name, load] of SECTIONS) {
      if (only && !only.has(name)) continue;
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      const mod = await load();
      let result: Record<string, number>;
      try {
        result = await mod.run();
      } catch (err) {
        process.stderr.write(`bench: section ${name} failed: ${(err as Error)?.stack ?? err}\n`);
        failed = true;
        continue;
      }
      for (const [key, value] of Object.entries(result)) {
        const prev = seen.get(key);
        if (prev) throw new Error(`bench: key ${key} reported by both ${prev} and ${name}`);
        seen.set(key, name);
        const goal = mod.goals[key];
        rows.push({ section: name, key, value, goal, ok: meets(value, goal) });
      }
      for (const key of Object.keys(mod.goals)) {
        if (!(key in result)) rows.push({ section: name, key, value: NaN, goal: mod.goals[key], ok: false });
      }
    }
  } finally {
    console.log = realLog;
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
