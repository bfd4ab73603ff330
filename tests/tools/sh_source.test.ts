/**
 * The built-ins that run text in the current shell (`.` and eval, XCU 2.14), dash's
 * `local`, and help's list of the runner's built-ins: what tests/tools/sh_compare.test.ts
 * cannot compare with dash (messages, the nesting bound, dot's ARGs, restoring on abort).
 * Dot scripts come from a fake ShellFiles.
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import t from 'tap';
import { REPO_ROOT } from '../lib/paths.js';
import { FileError, type ShellFiles } from '../../tools/lib/files.js';
import { bufferIo } from '../../tools/lib/io.js';
import { Registry, Shell } from '../../tools/registry.js';
import { commands } from '../../tools/commands/index.js';

/** Files from a table; a missing one is ENOENT's text. */
function fakeFiles(table: Record<string, string>): ShellFiles & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    read(p) {
      reads.push(p);
      if (!(p in table)) throw new FileError('No such file or directory');
      return new TextEncoder().encode(table[p]);
    },
    open() { throw new FileError('Read-only file system'); },
    stat: (p) => (p in table ? { kind: 'file', size: table[p].length } : null),
    list: () => Object.keys(table),
  };
}

function shell(table: Record<string, string> = {}) {
  const buf = bufferIo();
  const files = fakeFiles(table);
  const sh = new Shell(new Registry<unknown>(commands), {}, buf.io, { files });
  return {
    sh,
    files,
    run(s: string): { out: string; err: string; status: number } {
      const o = buf.stdout.length;
      const e = buf.stderr.length;
      const status = sh.runScript(s);
      return { out: buf.stdout.slice(o), err: buf.stderr.slice(e), status };
    },
  };
}

const RUNAWAY = /^sh: (\S+): (maximum nesting depth \(1000\) reached|nested too deeply for the host's stack \(\d+ levels\))\n$/;

t.test('. FILE: runs in the current shell', async (t) => {
  const { run, files } = shell({
    'lib.sh': 'x=from_lib\ngreet() { echo "hello $1"; }\n',
    'ret.sh': 'echo in\nreturn 3\necho no\n',
    'args.sh': 'echo "$# [$1] [$2] $0"\nset -- changed\n',
    'empty.sh': '# nothing\n',
  });
  let r = run('. lib.sh; echo $x; greet you');
  t.same([r.out, r.err, r.status], ['from_lib\nhello you\n', '', 0], 'its variables and functions stay; no PATH search');
  t.same(files.reads, ['lib.sh']);
  r = run('. ret.sh; echo "status $?"; f() { . ret.sh; echo "f goes on $?"; }; f');
  t.equal(r.out, 'in\nstatus 3\nin\nf goes on 3\n', 'return ends the dot script, not the function around it');
  r = run('set -- p q; . args.sh one "two words"; echo "$# $1"');
  t.equal(r.out, '2 [one] [two words] sh\n2 p\n', 'ARGs are $1... while it runs, the caller\'s come back after');
  r = run('set -- p q; . args.sh; echo "$# $1"');
  t.equal(r.out, '2 [p] [q] sh\n1 changed\n', 'without ARGs it sees and changes the caller\'s');
  r = run('false; . empty.sh; echo $?');
  t.equal(r.out, '0\n', 'nothing to run: status 0');
});

t.test('. FILE: errors', async (t) => {
  const { run, sh } = shell({ 'bad.sh': 'y=ran\nif then\n' });
  let r = run('x=1; . ./nope; echo "$? $x"');
  t.same([r.out, r.err, r.status], ['', '.: cannot open ./nope: No such file or directory\n', 2],
    "dash's message; a special built-in's error stops the script (XCU 2.8.1)");
  t.equal(sh.lastStatus, 2);
  r = run('(.); echo $?');
  t.same([r.out, r.err], ['2\n', '.: usage: . FILE [ARG...]\n'], 'in a subshell: the subshell stops');
  r = run('(. bad.sh); echo "$? [${y-unset}]"');
  t.same([r.out, r.err], ['2 [unset]\n', "sh: bad.sh: line 2: syntax error near unexpected token 'then'\n"],
    'a syntax error: the line in FILE, nothing of it runs');
  r = run("(eval 'if then'); echo $?; eval 'if then'; echo no");
  t.same([r.out, r.status], ['2\n', 2], 'eval: the same');
  t.equal(sh.lastStatus, 2);
});

t.test('. FILE: a file that dots itself stops, never a host stack overflow', async (t) => {
  const { run, sh } = shell({ 'self.sh': 'n=$((n+1)); . self.sh\n' });
  const r = run('n=0; . self.sh; echo never');
  t.match(r.err, RUNAWAY);
  t.equal(RUNAWAY.exec(r.err)?.[1], 'self.sh');
  t.same([r.out, r.status], ['', 2]);
  t.ok(Number(sh.getVar('n')) > 100, 'it nested');
  t.equal(run('(. self.sh); echo "sub $?"').out, 'sub 2\n', 'in a subshell only the subshell stops');
  t.equal(run('echo intact').out, 'intact\n');
});

t.test('the nesting bound counts dot scripts, with a larger host stack', async (t) => {
  const script = `
    import { bufferIo } from ${JSON.stringify(path.join(REPO_ROOT, 'build/tools/lib/io.js'))};
    import { Registry, Shell } from ${JSON.stringify(path.join(REPO_ROOT, 'build/tools/registry.js'))};
    import { commands } from ${JSON.stringify(path.join(REPO_ROOT, 'build/tools/commands/index.js'))};
    const buf = bufferIo();
    const files = { read: () => new TextEncoder().encode('n=$((n+1)); . self.sh\\n'), open() { throw new Error(); }, stat: () => null, list: () => [] };
    const sh = new Shell(new Registry(commands), {}, buf.io, { files });
    const status = sh.runScript('n=0; . self.sh; echo never');
    process.stdout.write(JSON.stringify({ status, out: buf.stdout, err: buf.stderr, n: sh.getVar('n') }));
  `;
  const r = JSON.parse(execFileSync(process.execPath, ['--stack-size=4000', '--input-type=module', '-e', script], { encoding: 'utf8' })) as
    { status: number; out: string; err: string; n: string };
  t.same(r, { status: 2, out: '', err: 'sh: self.sh: maximum nesting depth (1000) reached\n', n: '1000' });
});

t.test('eval', async (t) => {
  const { run } = shell();
  let r = run('eval \'echo "$1"\' one; set -- a b; eval echo \'"$#"\' "\\$2"; eval; echo $?');
  t.equal(r.out, ' one\n2 b\n0\n', 'ARGs joined by spaces, expanded again');
  r = run('(eval "if"); echo $?; (eval "echo a; fi"); echo $?');
  t.same([r.out, r.err], ['2\n2\n', "sh: eval: line 1: unexpected end of file (expecting a command after 'if')\nsh: eval: line 1: syntax error near unexpected token 'fi'\n"],
    'a syntax error: nothing of it runs, and (XCU 2.8.1) the subshell stops');
  r = run('x=\'eval "$x"\'; eval "$x"; echo never');
  t.match(r.err, RUNAWAY, 'an eval of itself stops');
  t.equal(RUNAWAY.exec(r.err)?.[1], 'eval');
  t.same([r.out, r.status], ['', 2]);
  r = run('eval "exit 7"; echo never');
  t.same([r.out, r.status], ['', 7]);
});

t.test('local: restored when the function ends, however it ends', async (t) => {
  const { run, sh } = shell({ 'loc.sh': 'local x=dotted\n' });
  let r = run('x=top; unset u; f() { local x=in u=new; echo "$x $u"; return 4; }; f; echo "$? $x [${u-unset}]"');
  t.equal(r.out, 'in new\n4 top [unset]\n', 'on return; unset before means unset after');
  r = run('f() { local x=deep; f; }; x=top; f');
  t.equal(r.status, 2, 'a runaway recursion aborts');
  t.equal(sh.getVar('x'), 'top', 'each level put back what it saved');
  run('f() { local x=sub; exit 3; }; x=top; y=$(f; echo no); echo "$? $x"');
  t.equal(sh.getVar('x'), 'top');
  r = run('f() { local x=1; g; }; g() { x=2; h; }; h() { echo "h sees $x"; }; x=0; f; echo $x');
  t.equal(r.out, 'h sees 2\n0\n', 'dynamic scope, as dash');
  r = run('f() { . loc.sh; echo $x; }; x=top; f; echo $x');
  t.equal(r.out, 'dotted\ntop\n', 'local in a dot script belongs to the function running it');
  r = run('f() { local -; set -f; }; f; set -- *; echo $#');
  t.equal(r.out, '1\n', 'local -: set -f is the caller\'s again (one file in the fake)');
});

t.test('local: errors change nothing', async (t) => {
  const { run } = shell({ 'loc.sh': 'local x=dotted\n' });
  let r = run('x=1; (local x=2); echo "$? $x"; local x=2; echo no');
  t.same([r.out, r.err, r.status], ['2 1\n', 'local: not in a function\nlocal: not in a function\n', 2],
    "outside a function: dash's message, status 2, and the script stops");
  r = run('x=1; (. loc.sh); echo "$? $x"');
  t.same([r.out, r.err], ['2 1\n', 'local: not in a function\n'], 'a dot script at the top is not a function');
  r = run('y=out; f() { local y=in 1z; echo "$? $y"; }; (f); echo "$? $y"');
  t.same([r.out, r.err], ['2 out\n', 'local: 1z: bad variable name\n']);
  r = run('f() { local a-b=1 -=x; echo $?; }; (f); echo $?');
  t.same([r.out, r.err], ['2\n', 'local: a-b: bad variable name\n']);
});

t.test('help lists the runner\'s built-ins and the functions', async (t) => {
  const { run } = shell();
  let r = run('help');
  const lines = r.out.trimEnd().split('\n');
  const names = lines.slice(1).map((l) => l.trim().split(/\s+/)[0]);
  t.same(names, [...names].sort(), 'one sorted list');
  for (const b of ['.', 'eval', 'local', 'return', 'set', 'shift']) t.ok(names.includes(b), b);
  t.match(r.out, /\n {2}eval {2,}run the ARGs, joined by spaces, as commands in this shell\n/);
  t.same(new Set(lines.slice(1).map((l) => l.search(/(?<=\S {2,})\S/))).size, 1, 'summaries in one column');
  t.notMatch(r.out, /functions defined/, 'no functions, no line for them');
  r = run('help .; help local');
  t.equal(r.out, "usage: . FILE [ARG...]\nrun a host FILE's commands in this shell (ARGs as $1...)\n" +
    "usage: local [NAME[=VALUE]|-]...\nmake variables the function's own until it returns\n");
  r = run('zz() { :; }; cat() { :; }; help | tail -n 1; help zz; help cat | head -n 2');
  t.equal(r.out, 'functions defined in this shell: cat zz\nzz is a function defined in this shell\n' +
    'cat is a function defined in this shell, run instead of the command\nusage: cat [FILE...]\n');
  r = run('help nope');
  t.same([r.err, r.status], ['help: no such command: nope\n', 1]);
});
