/**
 * Functions (XCU 2.9.5) and the positional parameters: scoping, lookup order (special
 * built-ins, functions, commands), set/shift/return and their errors, the bound on
 * recursion, and $0, $1... of a script FILE.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { REPO_ROOT } from '../lib/paths.js';
import { bufferIo } from '../../tools/lib/io.js';
import { Registry, Shell } from '../../tools/registry.js';
import { commands } from '../../tools/commands/index.js';
import { shellMain } from '../../tools/main.js';

/** A shell on the generic commands; run() gives one script's stdout, stderr and status. */
function shell(): { run(s: string): { out: string; err: string; status: number }; sh: Shell<unknown> } {
  const buf = bufferIo();
  const sh = new Shell(new Registry<unknown>(commands), {}, buf.io);
  return {
    sh,
    run(s) {
      const o = buf.stdout.length;
      const e = buf.stderr.length;
      const status = sh.runScript(s);
      return { out: buf.stdout.slice(o), err: buf.stderr.slice(e), status };
    },
  };
}

t.test('positional parameters are the function\'s, restored on return', async (t) => {
  const { run } = shell();
  t.equal(run('set -- top1 top2; f() { echo "f $# $1"; g x; echo "f again $# $*"; }; g() { echo "g $# $1"; set -- p q r; echo "g $#"; }; f a b c; echo "top $# $@"').out,
    'f 3 a\ng 1 x\ng 3\nf again 3 a b c\ntop 2 top1 top2\n');
  t.equal(run('echo "$# $1"').out, '2 top1\n', 'they last between scripts of one shell, as variables do');
  t.equal(run('f() { shift; echo "$@"; }; f 1 2 3; echo "$@"').out, '2 3\ntop1 top2\n');
  t.equal(run('f() { v=set_in_f; }; f; echo $v').out, 'set_in_f\n', 'variables are not local');
  t.equal(run('f() { g() { echo inner; }; }; f; g').out, 'inner\n', 'a function defined by a function is global');
  t.equal(run('(h() { echo no; }); h').err, 'sh: h: command not found\n', 'one defined in a subshell is not');
  t.equal(run('(set -- in a sub; echo $#); echo $#').out, '3\n2\n', 'nor are positional parameters set there');
  t.equal(run('f() { echo "[$1]"; }; echo a | f piped; f "$(f sub)"').out, '[piped]\n[[sub]]\n');
});

t.test('lookup: special built-ins, then functions, then commands (XCU 2.9.1.1)', async (t) => {
  const { run } = shell();
  t.equal(run('cat() { echo "my cat $1"; }; cat x; printf() { echo "my printf"; }; printf "%s\\n" y').out, 'my cat x\nmy printf\n');
  const r = run('exit() { echo not this; }; set() { echo nor this; }; set -- a; echo $#; exit 3; echo never');
  t.equal(r.out, '1\n', 'exit and set are special built-ins: a function does not shadow them');
  t.equal(r.status, 3);
});

t.test('return, shift, set', async (t) => {
  const { run } = shell();
  let r = run('f() { return 300; }; f; echo $?');
  t.same([r.out, r.err, r.status], ['', 'return: Illegal number: 300\n', 2],
    'a special built-in\'s error stops the script, status 2 (XCU 2.8.1)');
  r = run('f() { return x; echo no; }; (f); echo $?');
  t.equal(r.out, '2\n', 'in a subshell it stops the subshell only');
  r = run('echo a; return 4; echo b');
  t.same([r.out, r.status], ['a\n', 4], 'outside a function it stops the script, as dash does');
  r = run('set -- a b; (shift 3); echo "$? $#"; (shift x); echo "$? $#"; (shift 1 2); echo "$? $#"; shift 3; echo no');
  t.same([r.out, r.status], ['2 2\n2 2\n2 2\n', 2], 'errors: status 2, nothing shifted, and the script stops');
  t.equal(r.err, "shift: can't shift that many\nshift: Illegal number: x\nshift: too many arguments\nshift: can't shift that many\n");
  r = run('(set -Z; echo no); echo $?; (set -fq); echo $?; (set -o); echo $?; (set -o pipefail); echo $?');
  t.equal(r.out, '2\n2\n2\n2\n');
  t.equal(r.err, 'set: Illegal option -Z\nset: Illegal option -q\nset: Illegal option -o\nset: Illegal option -o pipefail\n',
    "dash's words for an option this shell does not have");
  r = run('(set -e; false; echo no); echo "sub $?"; PS4="> "; set -x; x=1 echo "$x"; set +x; echo quiet');
  t.same([r.out, r.err], ['sub 1\n\nquiet\n', '> x=1 echo \n> set +x\n'],
    'set -e ends a subshell at its failing command; set -x: $PS4, assignments, then the words, on stderr');
  r = shell().run('set -e; (false); echo no');
  t.same([r.out, r.status], ['', 1], 'a failing ( ) is a failing command: the shell ends');
  r = run('set -- a; set -f; echo $#; set +f -- b c; echo $# $1; set x; echo $1; set --; echo $#');
  t.equal(r.out, '1\n2 b\nx\n0\n', 'options alone keep the parameters');
  const listing = shell();
  t.equal(listing.run("a=1; b=\"it's\"; set").out, "a='1'\nb='it'\\''s'\n", 'set alone lists the variables');
});

t.test('break and continue inside a function do not reach the caller\'s loop', async (t) => {
  const { run } = shell();
  t.equal(run('f() { break; }; for i in 1 2; do f; echo $i; done').out, '1\n2\n');
  t.equal(run('f() { for i in 1 2 3; do [ $i = 2 ] && return 5; echo $i; done; }; for j in a b; do f; echo "$j $?"; done').out,
    '1\na 5\n1\nb 5\n');
});

t.test('redirections of a function apply at every call', async (t) => {
  const { run } = shell();
  t.equal(run('f() { echo "out $1"; echo "err $1" >&2; } 2>&1; f a | cat; f b 2>/dev/null').out, 'out a\nerr a\nout b\nerr b\n');
});

t.test('a runaway recursion stops with a message, never a host stack overflow', async (t) => {
  const { run, sh } = shell();
  const bodies = [
    'f() { f; }; f', 'f() { f "$@" x; }; f', 'f() { if true; then while true; do case a in a) f;; esac; break; done; fi; }; f',
    'f() { x=$(f); }; f', 'f() { f | cat; }; f', 'f() { { f; } > /dev/null; }; f',
  ];
  for (const body of bodies) {
    const r = run(body + '; echo after');
    t.match(r.err, /^sh: f: (maximum function recursion depth \(1000\) reached|function calls nested too deeply for the host's stack \(\d+ levels\))\n/, body);
    t.notMatch(r.err, /internal error|RangeError|at /, `${body}: no stack trace`);
    t.equal(r.out.includes('after'), body.includes('$(') || body.includes('|'), `${body}: where it stops`);
  }
  // The message goes to the standard error in effect where the recursion stopped.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mktme-sh-fn-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const errFile = path.join(dir, 'err');
  const redirected = run(`f() { { f; } 2>> ${errFile}; }; f`);
  t.same([redirected.err, redirected.status], ['', 2]);
  t.match(fs.readFileSync(errFile, 'utf8'), /^sh: f: (maximum function recursion depth|function calls nested too deeply)[^\n]*\n$/);
  const r = run('f() { f; }; (f); echo "sub $?"');
  t.equal(r.out, 'sub 2\n', 'in a subshell it stops the subshell, status 2');
  t.equal(run('f() { f; }; f').status, 2);
  t.equal(run('echo "$# still works"').out, '0 still works\n', 'the shell is intact afterwards');
  t.equal(sh.loops, 0);
  t.equal(run('n=0; f() { n=$((n+1)); [ $n -lt 100 ] && f; }; f; echo $n').out, '100\n', 'a bounded recursion of 100 runs');
});

t.test('the depth limit itself, with a larger host stack', async (t) => {
  // 4 MB of stack (well within the usual 8 MB thread stack) outlasts 1000 plain calls.
  const script = `
    import { bufferIo } from ${JSON.stringify(path.join(REPO_ROOT, 'build/tools/lib/io.js'))};
    import { Registry, Shell } from ${JSON.stringify(path.join(REPO_ROOT, 'build/tools/registry.js'))};
    import { commands } from ${JSON.stringify(path.join(REPO_ROOT, 'build/tools/commands/index.js'))};
    const buf = bufferIo();
    const sh = new Shell(new Registry(commands), {}, buf.io);
    const status = sh.runScript('n=0; f() { n=$((n+1)); f; }; f; echo never');
    process.stdout.write(JSON.stringify({ status, out: buf.stdout, err: buf.stderr, n: sh.getVar('n') }));
  `;
  const r = JSON.parse(execFileSync(process.execPath, ['--stack-size=4000', '--input-type=module', '-e', script], { encoding: 'utf8' })) as
    { status: number; out: string; err: string; n: string };
  t.same(r, { status: 2, out: '', err: 'sh: f: maximum function recursion depth (1000) reached\n', n: '1000' });
});

t.test('a parse error defines nothing', async (t) => {
  const { run } = shell();
  run('f() { echo old; }');
  const r = run('f() { echo new; }; g() { echo g; ');
  t.equal(r.status, 2);
  t.match(r.err, /unexpected end of file/);
  t.equal(run('f; g').out, 'old\n');
});

t.test('a script FILE is $0 and its ARGs $1...', async (t) => {
  const buf = bufferIo();
  const status = await shellMain<object>({
    argv: ['s.sh', 'one', 'two words', '--', '-x'], io: buf.io, stdin: '', stdinIsTty: false, commands,
    readFile: () => 'echo "$0 $#"; for a; do echo "[$a]"; done; shift 2; echo "$1"\n',
    boot: () => ({}),
  });
  t.equal(status, 0);
  t.equal(buf.stdout, 's.sh 3\n[one]\n[two words]\n[-x]\n-x\n');
});

t.test('a script FILE is $0', async (t) => {
  const buf = bufferIo();
  const status = await shellMain<object>({
    argv: ['dir/s.sh'], io: buf.io, stdin: '', stdinIsTty: false, commands,
    readFile: () => 'echo "$0 $#"; f() { echo "in f: $0 $1"; }; f x\n',
    boot: () => ({}),
  });
  t.equal(status, 0);
  t.equal(buf.stdout, 'dir/s.sh 0\nin f: dir/s.sh x\n');
  const c = bufferIo();
  await shellMain<object>({ argv: ['-c', 'echo $0'], io: c.io, stdin: '', stdinIsTty: false, commands, boot: () => ({}) });
  t.equal(c.stdout, 'sh\n', '-c: sh, as dash');
});
