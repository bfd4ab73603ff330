/**
 * tools/registry.ts and the generic commands: dispatch, exit statuses, error reporting,
 * stopping the shell, help/echo/exit.
 */
import t from 'tap';
import { bufferIo } from '../../tools/lib/io.js';
import {
  CommandError, Registry, Shell, ShellExit, UsageError, type Command,
} from '../../tools/registry.js';
import { commands } from '../../tools/commands/index.js';

interface Ctx { calls: string[] }

const testCommands: Command<Ctx>[] = [
  {
    name: 'ok', usage: 'ok', summary: 'succeed',
    run(ctx) { ctx.calls.push('ok'); return 0; },
  },
  {
    name: 'status', usage: 'status N', summary: 'return N',
    run(ctx, args) { ctx.calls.push(`status ${args[0]}`); return Number(args[0]); },
  },
  {
    name: 'needs-arg', usage: 'needs-arg ARG', summary: 'usage error without an argument',
    run(_ctx, args) { if (args.length !== 1) throw new UsageError(args.length ? 'too many' : ''); return 0; },
  },
  {
    name: 'fails', usage: 'fails', summary: 'command error',
    run() { throw new CommandError('no such page'); },
  },
  {
    name: 'boom', usage: 'boom', summary: 'internal error',
    run() { const o: { x?: { y: number } } = {}; return o.x!.y; },
  },
  {
    name: 'throws-string', usage: 'throws-string', summary: 'throws a non-Error',
    run() { throw 'just a string'; },
  },
  {
    name: 'poweroff', usage: 'poweroff', summary: 'stop the shell',
    run(ctx, _a, io) { ctx.calls.push('poweroff'); io.out('Power down.\n'); throw new ShellExit(0); },
  },
  {
    name: 'args', usage: 'args [ARG...]', summary: 'print arguments one per line',
    run(_ctx, args, io) { for (const a of args) io.out(`[${a}]\n`); return 0; },
  },
];

function setup(debug = false) {
  const buf = bufferIo();
  const ctx: Ctx = { calls: [] };
  const registry = new Registry<Ctx>([...commands, ...testCommands]);
  const shell = new Shell(registry, ctx, buf.io, { debug });
  return { buf, ctx, shell };
}

t.test('registry', async (t) => {
  const r = new Registry<Ctx>(testCommands);
  t.equal(r.get('ok')?.name, 'ok');
  t.equal(r.get('nope'), undefined);
  t.same(r.list().map((c) => c.name), ['args', 'boom', 'fails', 'needs-arg', 'ok', 'poweroff', 'status', 'throws-string']);
  t.throws(() => r.add(testCommands[0]), /duplicate command 'ok'/);
  t.throws(() => r.add({ name: 'Bad Name', usage: 'Bad Name', summary: '', run: () => 0 }), /bad command name/);
  t.throws(() => r.add({ name: 'x', usage: 'y ARG', summary: '', run: () => 0 }), /usage of 'x' must start with its name/);
});

t.test('exit statuses and messages', async (t) => {
  const { buf, shell, ctx } = setup();
  t.equal(shell.runCommand(['ok']), 0);
  t.equal(shell.runCommand(['status', '42']), 42);
  t.equal(shell.lastStatus, 42);
  t.equal(buf.all, '');

  t.equal(shell.runCommand(['needs-arg']), 2, 'usage error -> 2');
  t.equal(buf.stderr, 'usage: needs-arg ARG\n');
  t.equal(shell.runCommand(['needs-arg', 'a', 'b']), 2);
  t.equal(buf.stderr, 'usage: needs-arg ARG\nneeds-arg: too many\nusage: needs-arg ARG\n', 'message then usage');

  const b2 = setup();
  t.equal(b2.shell.runCommand(['fails']), 1, 'command error -> 1');
  t.equal(b2.buf.stderr, 'fails: no such page\n');

  const b3 = setup();
  t.equal(b3.shell.runCommand(['frobnicate', 'x']), 127, 'unknown -> 127');
  t.equal(b3.buf.stderr, 'sh: frobnicate: command not found\n');
  t.equal(b3.buf.stdout, '');
  t.same(ctx.calls, ['ok', 'status 42']);
});

t.test('internal errors never show a host stack trace', async (t) => {
  const { buf, shell } = setup(false);
  t.equal(shell.runCommand(['boom']), 1);
  t.match(buf.stderr, /^boom: internal error: .*undefined.*\n$/);
  t.notMatch(buf.stderr, /\n\s+at /, 'no stack frames'); // the message carries the host's words: absence is the point
  t.equal(buf.stderr.split('\n').length, 2, 'one line');
  t.equal(shell.runCommand(['throws-string']), 1);
  t.match(buf.stderr, /throws-string: internal error: just a string\n$/);
  t.equal(shell.runCommand(['status', '256']), 1, 'out-of-range status is an internal error');
  t.match(buf.stderr, /status: internal error: bad exit status 256\n$/);
  t.equal(shell.runCommand(['status', 'NaN']), 1);

  const dbg = setup(true);
  t.equal(dbg.shell.runCommand(['boom']), 1);
  t.match(dbg.buf.stderr, /^boom: internal error: .*\n.*TypeError[^]*\n\s+at /, 'stack with debug on');
});

t.test('debug defaults to env MKTME_DEBUG', async (t) => {
  const saved = process.env.MKTME_DEBUG;
  t.teardown(() => { if (saved === undefined) delete process.env.MKTME_DEBUG; else process.env.MKTME_DEBUG = saved; });
  delete process.env.MKTME_DEBUG;
  t.equal(new Shell(new Registry(), {}, bufferIo().io).debug, false);
  process.env.MKTME_DEBUG = '1';
  t.equal(new Shell(new Registry(), {}, bufferIo().io).debug, true);
});

t.test('scripts: last status, keep going after failures, stop on ShellExit', async (t) => {
  const { buf, shell, ctx } = setup();
  t.equal(shell.runScript('status 3; fails; ok'), 0, 'status of the last command');
  t.equal(shell.runScript('ok; fails'), 1);
  t.equal(shell.runScript('ok\nnope'), 127);
  t.same(ctx.calls, ['status 3', 'ok', 'ok', 'ok']);
  t.equal(shell.exited, false);

  ctx.calls.length = 0;
  t.equal(shell.runScript('ok; poweroff; ok'), 0);
  t.equal(shell.exited, true);
  t.same(ctx.calls, ['ok', 'poweroff'], 'nothing runs after poweroff');
  t.match(buf.stdout, /Power down\.\n$/);
  t.equal(shell.runScript('ok'), 0, 'a stopped shell runs nothing more');
  t.same(ctx.calls, ['ok', 'poweroff']);
});

t.test('script syntax errors run nothing', async (t) => {
  const { buf, shell, ctx } = setup();
  t.equal(shell.runScript("ok; args 'open", 'test.sh'), 2);
  t.same(ctx.calls, [], 'the first command did not run either');
  t.equal(buf.stderr, 'sh: test.sh: line 1: unterminated single quote (\')\n');
});

t.test('quoting reaches the command', async (t) => {
  const { buf, shell } = setup();
  t.equal(shell.runScript(`args 0x1000 'hello world' "a \\"b\\"" c\\ d '' # comment`), 0);
  t.equal(buf.stdout, '[0x1000]\n[hello world]\n[a "b"]\n[c d]\n[]\n');
});

t.test('help', async (t) => {
  const { buf, shell } = setup();
  t.equal(shell.runCommand(['help']), 0);
  const lines = buf.stdout.trimEnd().split('\n');
  t.match(lines[0], /^commands/);
  const names = lines.slice(1).map((l) => l.trim().split(/\s+/)[0]);
  t.same(names, [...names].sort(), 'sorted');
  t.ok(names.includes('help') && names.includes('echo') && names.includes('poweroff'));
  t.match(buf.stdout, /\n {2}echo {11}print the arguments\n/, 'names padded to the longest (throws-string)');
  const column = lines.slice(1).map((l) => l.search(/\S+$|(?<=\S {2,})\S/));
  t.same(new Set(column).size, 1, 'summaries in one column');

  const h = setup();
  t.equal(h.shell.runCommand(['help', 'needs-arg']), 0);
  t.equal(h.buf.stdout, 'usage: needs-arg ARG\nusage error without an argument\n');
  t.equal(h.shell.runCommand(['help', 'exit']), 0);
  t.match(h.buf.stdout, /usage: exit \[STATUS\]\nleave the shell\nSTATUS is 0\.\.255/);
  t.equal(h.shell.runCommand(['help', 'nope']), 1);
  t.equal(h.buf.stderr, 'help: no such command: nope\n');
  t.equal(h.shell.runCommand(['help', 'a', 'b']), 2);
  t.match(h.buf.stderr, /usage: help \[COMMAND\]\n$/);
});

t.test('echo', async (t) => {
  const { buf, shell } = setup();
  t.equal(shell.runScript("echo hello  'big   world'; echo; echo -n no newline; echo -x"), 0);
  t.equal(buf.stdout, 'hello big   world\n\nno newline-x\n');
});

t.test('exit', async (t) => {
  const a = setup();
  t.equal(a.shell.runScript('exit 3; ok'), 3);
  t.ok(a.shell.exited);
  t.same(a.ctx.calls, []);

  const b = setup();
  t.equal(b.shell.runScript('status 5; exit'), 5, 'defaults to the previous status');

  const c = setup();
  t.equal(c.shell.runScript('exit 256'), 2);
  t.equal(c.shell.exited, false, 'a bad status is a usage error, not an exit');
  t.match(c.buf.stderr, /exit: STATUS must be a number in 0\.\.255, not '256'\nusage: exit \[STATUS\]\n/);
  t.equal(c.shell.runScript('exit 1 2'), 2);
});
