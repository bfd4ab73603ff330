/**
 * tools/main.ts and tools/repl.ts: every mode through one runner, errors before boot,
 * the interactive prompt (continuation, exit, end of input), shutdown.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import t from 'tap';
import { bufferIo } from '../../tools/lib/io.js';
import { shellMain, readAll, type ShellMainDeps } from '../../tools/main.js';
import { CommandError, ShellExit, type Command } from '../../tools/registry.js';
import { commands } from '../../tools/commands/index.js';
import { promptFor } from '../../tools/repl.js';
import type { ShellOptions } from '../../tools/options.js';

interface Ctx { root: boolean; booted: ShellOptions; log: string[] }

const extra: Command<Ctx>[] = [
  { name: 'su', usage: 'su', summary: 'toggle root', run(ctx) { ctx.root = !ctx.root; return 0; } },
  { name: 'poweroff', usage: 'poweroff', summary: 'stop', run() { throw new ShellExit(0); } },
  {
    name: 'cfg', usage: 'cfg', summary: 'show config',
    run(ctx, _a, io) { io.out(`nodes=${ctx.booted.config.packages} cmdline='${ctx.booted.cmdline}'\n`); return 0; },
  },
];

function harness(argv: string[], stdin: string, over: Partial<ShellMainDeps<Ctx>> = {}) {
  const buf = bufferIo();
  const events: string[] = [];
  const run = shellMain<Ctx>({
    argv,
    io: buf.io,
    stdin,
    stdinIsTty: false,
    commands: [...commands, ...extra],
    boot(options) { events.push('boot'); return { root: true, booted: options, log: [] }; },
    prompt: (ctx) => promptFor(ctx.root),
    shutdown(_ctx, status) { events.push(`shutdown ${status}`); },
    ...over,
  });
  return run.then((status) => ({ status, out: buf.stdout, err: buf.stderr, all: buf.all, events }));
}

t.test('-c mode', async (t) => {
  const r = await harness(['--nodes', '3', '--append', 'quiet', '-c', 'cfg; echo "a  b"; false'], '');
  t.equal(r.status, 1, 'status of the last command');
  t.equal(r.out, "nodes=3 cmdline='quiet'\na  b\n");
  t.equal(r.err, '');
  t.same(r.events, ['boot', 'shutdown 1']);
});

t.test('FILE mode', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mktme-sh-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 's.sh');
  fs.writeFileSync(file, '# a script\necho one\nnope\necho two # done\n');
  const r = await harness([file], '');
  t.equal(r.status, 0);
  t.equal(r.all, 'one\nsh: nope: command not found\ntwo\n', 'keeps going after a failure');

  const missing = await harness([path.join(dir, 'missing.sh')], '');
  t.equal(missing.status, 127);
  t.equal(missing.err, `sh: ${path.join(dir, 'missing.sh')}: No such file or directory\n`);
  t.same(missing.events, [], 'no boot for an unreadable FILE');

  const isDir = await harness([dir], '');
  t.equal(isDir.status, 126);
  t.match(isDir.err, /Is a directory/);

  fs.writeFileSync(file, 'echo fine\necho "broken\n');
  const bad = await harness([file], '');
  t.equal(bad.status, 2);
  t.equal(bad.err, `sh: ${file}: line 2: unterminated double quote (")\n`);
  t.equal(bad.out, '', 'nothing ran');
  t.same(bad.events, [], 'no boot for a syntax error');
});

t.test('stdin mode', async (t) => {
  const r = await harness([], 'echo from stdin\nexit 4\necho never\n');
  t.equal(r.status, 4);
  t.equal(r.out, 'from stdin\n');
  t.same(r.events, ['boot', 'shutdown 4']);
  const dash = await harness(['-'], 'echo dash');
  t.equal(dash.out, 'dash\n');
  const stream = new PassThrough();
  stream.end('echo streamed\n');
  t.equal(await readAll(stream), 'echo streamed\n');
});

t.test('option errors and help', async (t) => {
  const e = await harness(['--nodes', '0', '-c', 'echo x'], '');
  t.equal(e.status, 2);
  t.match(e.err, /^sh: --nodes must be a number in 1\.\.8, not '0'\nusage: /);
  t.equal(e.out, '');
  t.same(e.events, [], 'no boot');
  const h = await harness(['--help'], '');
  t.equal(h.status, 0);
  t.match(h.out, /^usage: /);
  t.same(h.events, []);
});

t.test('boot and shutdown failures', async (t) => {
  const r = await harness(['-c', 'echo x'], '', { boot() { throw new CommandError('no memory on node 1'); } });
  t.equal(r.status, 1);
  t.equal(r.err, 'sh: boot: no memory on node 1\n');
  t.equal(r.out, '');
  const odd = await harness(['-c', 'echo x'], '', { boot() { throw new TypeError('bug'); }, debug: false });
  t.equal(odd.err, 'sh: boot: bug\n', 'no stack trace');
  const asyncBoot = await harness(['-c', 'cfg'], '', {
    boot: async (o) => ({ root: true, booted: o, log: [] }),
  });
  t.equal(asyncBoot.out, "nodes=2 cmdline=''\n", 'boot may be async');
  const sd = await harness(['-c', 'echo x'], '', { shutdown() { throw new Error('disk on fire'); } });
  t.equal(sd.status, 1);
  t.equal(sd.err, 'sh: shutdown: disk on fire\n');
});

t.test('interactive: prompt, continuation, exit', async (t) => {
  const r = await harness([], "echo hi\nsu\necho 'two\nlines'\nexit 7\necho never\n", { stdinIsTty: true });
  t.equal(r.status, 7);
  t.equal(r.all, 'mktme# hi\nmktme# mktme$ > two\nlines\nmktme$ ', 'prompts via the callback; "> " while a quote is open');
  t.same(r.events, ['boot', 'shutdown 7']);
});

t.test('interactive: end of input', async (t) => {
  const r = await harness([], 'false\n', { stdinIsTty: true });
  t.equal(r.status, 1, 'Ctrl-D keeps the last status');
  t.equal(r.out, 'mktme# mktme# ');
  const open = await harness([], "echo 'never closed\n", { stdinIsTty: true });
  t.equal(open.status, 2);
  t.match(open.err, /sh: unterminated single quote/);
  const bad = await harness([], 'echo a\\\n', { stdinIsTty: true });
  t.equal(bad.status, 2, 'continuation line then EOF');
});

t.test('interactive: poweroff stops reading a live stream', async (t) => {
  const input = new PassThrough();
  const buf = bufferIo();
  const done = shellMain<Ctx>({
    argv: [], io: buf.io, stdin: input, stdinIsTty: true, terminal: false,
    commands: [...commands, ...extra],
    boot: (o) => ({ root: false, booted: o, log: [] }),
    prompt: (ctx) => promptFor(ctx.root),
  });
  input.write('echo up\n');
  input.write('poweroff\necho after\n');
  t.equal(await done, 0);
  t.equal(buf.stdout, 'mktme$ up\nmktme$ ');
  input.destroy();
});

t.test('interactive: a failing prompt callback is survivable', async (t) => {
  const r = await harness([], 'echo ok\n', { stdinIsTty: true, prompt: () => { throw new Error('no proc'); } });
  t.equal(r.out, '? ok\n? ');
  t.equal(r.status, 0);
});
