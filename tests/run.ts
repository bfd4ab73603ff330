/**
 * `make test`'s runner: every compiled test file (build/tests/**\/*.test.js) runs as its
 * own node process, as many at once as the host has cores (JOBS=N overrides). Each file
 * is a tap script that prints TAP and ends with tap's summary line
 * (`# { total: 12, pass: 11, fail: 1 }`); this adds the files' summaries into one in the
 * same form, so `.ci/run` reads it as it reads tap's.
 *
 * Why not tap's own runner: it loads its plugins (ts-node among them) into every test
 * process, about 1.5 s of CPU a file, which was most of the suite's time. `make tap`
 * still runs the suite under tap, with its coverage report.
 *
 *   node build/tests/run.js [SUBSTRING...]     only files whose path contains one
 *
 * A file fails when it exits non-zero, prints no summary, reports a failure, or runs
 * past TIMEOUT_MS; its whole output is then printed. Output order is the files' order.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from './lib/paths.js';

const TIMEOUT_MS = 300_000;
/**
 * V8 flags each test process gets, as `make run` and `make bench` pass them (Makefile
 * NODE_V8): ArrayBuffer.prototype.transfer for the line cipher (arch/x86/hw/crypto/ecb.ts),
 * where this node accepts the flag.
 */
const V8_FLAGS = spawnSync(process.execPath, ['--harmony-rab-gsab-transfer', '-e', '0']).status === 0
  ? ['--harmony-rab-gsab-transfer'] : [];
const BUILD_TESTS = path.join(REPO_ROOT, 'build', 'tests');

interface Result { file: string; code: number | null; out: string; ms: number; total: number; pass: number; fail: number; skip: number; timedOut: boolean }

function testFiles(filters: string[]): string[] {
  const all = fs.readdirSync(BUILD_TESTS, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.test.js'))
    .map((f) => path.join('build', 'tests', f))
    .sort();
  return filters.length ? all.filter((f) => filters.some((s) => f.includes(s))) : all;
}

/** The last tap summary line of a file's output: counts, or null when there is none. */
function summary(out: string): { total: number; pass: number; fail: number; skip: number } | null {
  const lines = out.split('\n').filter((l) => /^# \{ total: \d+/.test(l));
  if (!lines.length) return null;
  const last = lines[lines.length - 1];
  const n = (key: string): number => Number(new RegExp(`${key}: (\\d+)`).exec(last)?.[1] ?? 0);
  return { total: n('total'), pass: n('pass'), fail: n('fail'), skip: n('skip') + n('todo') };
}

function runOne(file: string): Promise<Result> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, ['--enable-source-maps', ...V8_FLAGS, file], {
      cwd: REPO_ROOT, env: { ...process.env, TAP: '1' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { out += b.toString(); });
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      const s = summary(out);
      const broken = timedOut || code !== 0 || !s;
      resolve({
        file, code, out, ms: Date.now() - t0, timedOut,
        total: s?.total ?? 0, pass: s?.pass ?? 0, skip: s?.skip ?? 0,
        // a file that died or printed no summary counts as one more failure
        fail: (s?.fail ?? 0) + (broken && !(s?.fail) ? 1 : 0),
      });
    });
  });
}

async function main(): Promise<number> {
  const files = testFiles(process.argv.slice(2));
  if (!files.length) {
    process.stdout.write('# no test files matched\n# { total: 0, pass: 0 }\n');
    return 1;
  }
  const jobs = Math.max(1, Number(process.env.JOBS) || os.availableParallelism());
  const results: Result[] = new Array(files.length);
  let next = 0;
  let printed = 0;
  const flush = (): void => {
    while (printed < files.length && results[printed]) {
      const r = results[printed++];
      const ok = r.fail === 0;
      process.stdout.write(`${ok ? 'ok' : 'not ok'} ${printed} - ${r.file} # time=${r.ms}ms\n`);
      if (!ok) {
        const why = r.timedOut ? `timed out after ${TIMEOUT_MS} ms` : r.code !== 0 ? `exit status ${r.code}` : 'failures';
        process.stdout.write(`  # ${why}; its output:\n${r.out.replace(/^/gm, '    ')}\n`);
      }
    }
  };
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const i = next++;
      results[i] = await runOne(files[i]);
      flush();
    }
  };
  const t0 = Date.now();
  await Promise.all(Array.from({ length: Math.min(jobs, files.length) }, worker));
  const sum = (k: 'total' | 'pass' | 'fail' | 'skip'): number => results.reduce((a, r) => a + r[k], 0);
  const total = sum('total'); const pass = sum('pass'); const fail = sum('fail'); const skip = sum('skip');
  process.stdout.write(`1..${files.length}\n`);
  process.stdout.write(`# ${files.length} files, ${results.filter((r) => r.fail).length} failing, ${Date.now() - t0} ms\n`);
  process.stdout.write(`# { total: ${total}, pass: ${pass}${fail ? `, fail: ${fail}` : ''}${skip ? `, skip: ${skip}` : ''} }\n`);
  return fail ? 1 : 0;
}

main().then((code) => { process.exitCode = code; }, (e: unknown) => {
  process.stderr.write(`tests/run: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 2;
});
