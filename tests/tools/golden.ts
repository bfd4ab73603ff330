/**
 * Golden-transcript harness (a helper, not a test). A golden test is a pair of files:
 *
 *   NAME.sh    a shell script, run as the FILE argument of the shell
 *   NAME.out   the expected transcript: stdout, stderr and exit status
 *
 * Leading comment lines of NAME.sh may carry directives:
 *   # args: --nodes 1 --seed 7     extra shell options (split like a command line)
 *   # stdin                        feed the script on stdin instead of naming it as FILE
 *
 * The shell is any function `runShell(args, stdin?)`, so the harness works with the real
 * entry point and with a dummy context alike; `inProcessRunner` builds one from
 * shellMain. Run with UPDATE_GOLDEN=1 to (re)write the .out files from what the shell
 * does now, then review the diff.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Test } from 'tap';
import { bufferIo } from '../../tools/lib/io.js';
import { splitWords } from '../../tools/sh/parse.js';
import { shellMain, type ShellMainDeps } from '../../tools/main.js';
import { REPO_ROOT } from '../lib/paths.js';

export interface ShellResult { stdout: string; stderr: string; status: number }
export type RunShell = (args: string[], stdin?: string) => ShellResult | Promise<ShellResult>;

/** Where the project's golden scripts live. */
export const GOLDEN_DIR = path.join(REPO_ROOT, 'tests', 'golden');

/** The transcript layout of a .out file. Empty stdout/stderr sections are left out. */
export function formatTranscript(r: ShellResult): string {
  const section = (name: string, text: string): string => {
    if (text === '') return '';
    return `--- ${name} ---\n${text}${text.endsWith('\n') ? '' : '\n\\ no newline at end\n'}`;
  };
  return section('stdout', r.stdout) + section('stderr', r.stderr) + `--- status ${r.status} ---\n`;
}

export interface Directives { args: string[]; stdin: boolean }

/** Read the `# args:` and `# stdin` directives from the script's leading comments. */
export function readDirectives(script: string): Directives {
  const d: Directives = { args: [], stdin: false };
  for (const raw of script.split('\n')) {
    const line = raw.trim();
    if (!line.startsWith('#')) break;
    const body = line.replace(/^#\s*/, '');
    if (body === 'stdin') {
      d.stdin = true;
    } else if (body.startsWith('args:')) {
      const parsed = splitWords(body.slice('args:'.length));
      if (!parsed.ok) throw new Error(`golden: bad '# args:' line: ${parsed.error}`);
      d.args.push(...parsed.value);
    }
  }
  return d;
}

export type GoldenOutcome =
  | { kind: 'match'; actual: string }
  | { kind: 'mismatch'; actual: string; expected: string }
  | { kind: 'missing'; actual: string }
  | { kind: 'updated'; actual: string };

/**
 * Run NAME.sh and compare with NAME.out (or write NAME.out when `update`).
 * The script is passed by its path relative to the current directory, so messages
 * that name it do not depend on where the tree is checked out.
 */
export async function compareGolden(
  scriptPath: string,
  runShell: RunShell,
  update = process.env.UPDATE_GOLDEN === '1',
): Promise<GoldenOutcome> {
  const script = fs.readFileSync(scriptPath, 'utf8');
  const d = readDirectives(script);
  const rel = path.relative(process.cwd(), scriptPath) || scriptPath;
  const result = d.stdin ? await runShell(d.args, script) : await runShell([...d.args, rel]);
  const actual = formatTranscript(result);
  const outPath = scriptPath.replace(/\.sh$/, '.out');
  if (update) {
    fs.writeFileSync(outPath, actual);
    return { kind: 'updated', actual };
  }
  if (!fs.existsSync(outPath)) return { kind: 'missing', actual };
  const expected = fs.readFileSync(outPath, 'utf8');
  return expected === actual ? { kind: 'match', actual } : { kind: 'mismatch', actual, expected };
}

/** One tap assertion for one golden script. */
export async function checkGolden(t: Test, scriptPath: string, runShell: RunShell): Promise<void> {
  const name = path.basename(scriptPath);
  const r = await compareGolden(scriptPath, runShell);
  if (r.kind === 'updated') t.pass(`${name}: wrote ${name.replace(/\.sh$/, '.out')}`);
  else if (r.kind === 'missing') t.fail(`${name}: no .out file; run with UPDATE_GOLDEN=1 to create it`);
  else if (r.kind === 'mismatch') t.equal(r.actual, r.expected, `${name}: transcript differs (UPDATE_GOLDEN=1 rewrites)`);
  else t.pass(`${name}: transcript matches`);
}

/** The *.sh files of a directory, sorted. */
export function goldenScripts(dir: string): string[] {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.sh')).sort().map((f) => path.join(dir, f));
}

/** A subtest per NAME.sh in `dir`. */
export async function runGoldenDir(t: Test, dir: string, runShell: RunShell): Promise<void> {
  for (const script of goldenScripts(dir)) {
    await t.test(path.basename(script, '.sh'), (st) => checkGolden(st, script, runShell));
  }
}

/**
 * A RunShell that runs shellMain in this process, output captured. `deps` is what the
 * entry point gives shellMain minus the process plumbing (commands, boot, ...).
 * stdin defaults to '' and is never a terminal, as under a test runner.
 */
export function inProcessRunner<C>(
  deps: Omit<ShellMainDeps<C>, 'argv' | 'io' | 'stdin' | 'stdinIsTty'>,
): RunShell {
  return async (args, stdin = '') => {
    const buf = bufferIo(false);
    const status = await shellMain({ ...deps, argv: args, io: buf.io, stdin, stdinIsTty: false });
    return { stdout: buf.stdout, stderr: buf.stderr, status };
  };
}
