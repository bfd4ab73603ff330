/**
 * The golden-transcript harness (tests/tools/golden.ts), exercised with the generic
 * commands on a dummy context through shellMain in-process.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { commands } from '../../tools/commands/index.js';
import type { ShellOptions } from '../../tools/options.js';
import type { Command } from '../../tools/registry.js';
import { REPO_ROOT } from '../lib/paths.js';
import {
  compareGolden, formatTranscript, goldenScripts, inProcessRunner, readDirectives, runGoldenDir, type RunShell,
} from './golden.js';

const FIXTURES = path.join(REPO_ROOT, 'tests', 'tools', 'fixtures', 'golden');

interface Ctx { options: ShellOptions }

const dummy: Command<Ctx>[] = [
  {
    name: 'cfg', usage: 'cfg', summary: 'print the machine shape',
    run(ctx, _a, io) { io.out(`nodes=${ctx.options.config.packages} cmdline='${ctx.options.cmdline}'\n`); return 0; },
  },
  { name: 'boom', usage: 'boom', summary: 'crash', run() { throw new RangeError('index 9 out of range'); } },
];

const runShell: RunShell = inProcessRunner<Ctx>({
  commands: [...commands, ...dummy],
  boot: (options) => ({ options }),
  debug: false,
});

t.test('fixtures match their transcripts', async (t) => {
  t.same(goldenScripts(FIXTURES).map((f) => path.basename(f)), ['basics.sh', 'noexit.sh', 'piped.sh']);
  await runGoldenDir(t, FIXTURES, runShell);
});

t.test('transcript layout', async (t) => {
  t.equal(formatTranscript({ stdout: 'a\n', stderr: '', status: 0 }), '--- stdout ---\na\n--- status 0 ---\n');
  t.equal(formatTranscript({ stdout: '', stderr: 'e', status: 2 }),
    '--- stderr ---\ne\n\\ no newline at end\n--- status 2 ---\n');
  t.equal(formatTranscript({ stdout: '', stderr: '', status: 127 }), '--- status 127 ---\n');
});

t.test('directives', async (t) => {
  t.same(readDirectives("# args: --seed 3 --append 'a b'\n# stdin\necho\n# args: ignored"),
    { args: ['--seed', '3', '--append', 'a b'], stdin: true });
  t.same(readDirectives('echo\n# stdin'), { args: [], stdin: false }, 'only leading comments count');
  t.throws(() => readDirectives("# args: 'open"), /bad '# args:' line/);
});

t.test('mismatch, missing and update', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mktme-golden-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const script = path.join(dir, 'x.sh');
  const out = path.join(dir, 'x.out');
  fs.writeFileSync(script, 'echo one\n');

  t.equal((await compareGolden(script, runShell, false)).kind, 'missing');
  t.equal(fs.existsSync(out), false, 'compare never writes');

  const upd = await compareGolden(script, runShell, true);
  t.equal(upd.kind, 'updated');
  t.equal(fs.readFileSync(out, 'utf8'), '--- stdout ---\none\n--- status 0 ---\n');
  t.equal((await compareGolden(script, runShell, false)).kind, 'match');

  fs.writeFileSync(script, 'echo two\n');
  const mm = await compareGolden(script, runShell, false);
  t.equal(mm.kind, 'mismatch', 'a changed output is caught');
  if (mm.kind === 'mismatch') {
    t.equal(mm.expected, '--- stdout ---\none\n--- status 0 ---\n');
    t.equal(mm.actual, '--- stdout ---\ntwo\n--- status 0 ---\n');
  }

  fs.writeFileSync(out, '--- stdout ---\ntwo\n--- status 1 ---\n');
  t.equal((await compareGolden(script, runShell, false)).kind, 'mismatch', 'a changed status is caught');
});

t.test('the runner gets the script path relative to the cwd', async (t) => {
  const seen: string[][] = [];
  const spy: RunShell = (args) => { seen.push(args); return { stdout: '', stderr: '', status: 0 }; };
  await compareGolden(path.join(FIXTURES, 'basics.sh'), spy, false);
  t.same(seen, [['--nodes', '3', '--append', 'quiet loglevel=3', path.relative(process.cwd(), path.join(FIXTURES, 'basics.sh'))]]);
  t.notOk(path.isAbsolute(seen[0][4]));
});
