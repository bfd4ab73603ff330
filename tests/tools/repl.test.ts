/**
 * The prompt on a (simulated) terminal: history saved to a file and found again by the
 * next session (Up, Enter), Tab completion of command names and paths, continuation
 * while an `if`, a here-document, a `case` or a function body is open.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import t from 'tap';
import { bufferIo } from '../../tools/lib/io.js';
import { Registry, Shell } from '../../tools/registry.js';
import { commands } from '../../tools/commands/index.js';
import { loadHistory, runInteractive, saveHistory } from '../../tools/repl.js';
import { complete } from '../../tools/lib/complete.js';
import type { ShellFiles } from '../../tools/lib/files.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mktme-repl-'));
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Run one terminal session that types `keys`, then ends input. */
async function session(keys: string, historyFile: string): Promise<{ out: string; status: number }> {
  const buf = bufferIo();
  const sh = new Shell(new Registry<unknown>(commands), {}, buf.io);
  const input = new PassThrough();
  const output = new PassThrough();
  output.resume();
  const done = runInteractive(sh, { input, output, terminal: true, prompt: () => '$ ', historyFile });
  for (const k of keys) input.write(k); // one keypress at a time, as a terminal sends them
  input.end();
  const status = await done;
  return { out: buf.stdout, status };
}

t.test('history survives the session', async (t) => {
  const file = path.join(dir, 'history');
  let r = await session('echo first\recho second\r', file);
  t.equal(r.out, 'first\nsecond\n');
  t.equal(fs.readFileSync(file, 'utf8'), 'echo first\necho second\n', 'oldest line first');
  r = await session('\x1b[A\r\x1b[A\x1b[A\r', file);
  t.equal(r.out, 'second\nfirst\n', 'Up recalls the last session\'s lines');
  t.same(loadHistory(file, 1), ['echo first'], 'newest first, limited to the size');
});

t.test('history helpers tolerate bad files', async (t) => {
  t.same(loadHistory(path.join(dir, 'missing'), 10), []);
  const bad = path.join(dir, 'no', 'such', 'dir');
  t.doesNotThrow(() => saveHistory(bad, ['x']), 'an unwritable history file is ignored');
  t.equal(fs.existsSync(bad), false, 'and nothing is created');
});

t.test('Tab completes a command name', async (t) => {
  const r = await session('prin\t %s\\\\n tabbed\r', path.join(dir, 'h2'));
  t.equal(r.out, 'tabbed\n');
});

t.test('Tab completes a function defined at the prompt, and the runner\'s built-ins', async (t) => {
  const r = await session('greet_all() { echo "hi $1"; }\rgreet_\t you\rshif\t 0; echo done\r', path.join(dir, 'h5'));
  t.equal(r.out, 'hi you\ndone\n');
});

t.test('continuation while if is open', async (t) => {
  const r = await session('if true\rthen echo yes\rfi\r', path.join(dir, 'h3'));
  t.equal(r.out, 'yes\n');
});

t.test('continuation inside a here-document, a case and a function', async (t) => {
  const r = await session('x=1; cat <<EOF\rvalue $x\rEOF\rcase a in\ra) echo A;;\resac\rf() {\recho "f $1"\r}\rf z\r', path.join(dir, 'h4'));
  t.equal(r.out, 'value 1\nA\nf z\n');
});

t.test('complete()', async (t) => {
  const tree: Record<string, string[]> = { '/': ['proc', 'sys'], '/proc': ['cpuinfo', 'meminfo', 'self'], '/proc/self': ['maps'] };
  const files: ShellFiles = {
    read: () => new Uint8Array(),
    open: () => ({ write() {}, close() {} }),
    stat: (p) => (p.replace(/\/$/, '') in tree ? { kind: 'dir', size: 0 } : { kind: 'file', size: 0 }),
    list: (d) => tree[d] ?? [],
  };
  const names = ['cat', 'cpuid', 'echo', 'grep'];
  t.same(complete('c', names, files), [['cat', 'cpuid'], 'c']);
  t.same(complete('echo a | gr', names, files), [['grep'], 'gr'], 'after a pipe');
  t.same(complete('x=$(ca', names, files), [['cat'], 'ca'], 'inside $(');
  t.same(complete('if true; then e', names, files), [['echo'], 'e']);
  t.same(complete('echo c', names, files), [[], 'c'], 'an argument is no command');
  t.same(complete('cat /proc/m', names, files), [['/proc/meminfo'], '/proc/m']);
  t.same(complete('cat /proc/s', names, files), [['/proc/self/'], '/proc/s'], 'directories get a slash');
  t.same(complete('cat /p', names, files), [['/proc/'], '/p']);
  t.same(complete('grep x </proc/c', names, files), [['/proc/cpuinfo'], '/proc/c'], 'after a redirection');
});

t.test('at the prompt a special built-in\'s error abandons its line only (XCU 2.8.1: an interactive shell does not exit)', async (t) => {
  const r = await session('shift 3; echo not this\recho "next line $?"\recho ${u?}; echo nor this\recho end\r', path.join(dir, 'h6'));
  t.equal(r.out, 'next line 2\nend\n');
});
