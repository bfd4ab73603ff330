/**
 * tools/sh/pattern.ts (XCU 2.13) and tools/sh/glob.ts (XCU 2.6.6): the matcher on its
 * own, quoting, and pathname expansion against a temporary host directory and the
 * booted kernel's /proc, /sys and /dev.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { compilePattern, patternOf } from '../../tools/sh/pattern.js';
import { expandPathname } from '../../tools/sh/glob.js';
import { hostFiles } from '../../tools/lib/files.js';
import { bufferIo } from '../../tools/lib/io.js';
import { Registry, Shell } from '../../tools/registry.js';
import { commands } from '../../tools/commands/index.js';
import { runShell } from '../../tools/shell.js';

t.test('wildcards', async (t) => {
  const cases: [string, string, boolean][] = [
    ['*', '', true], ['*', 'abc', true], ['a*', 'abc', true], ['a*', 'bac', false],
    ['*c', 'abc', true], ['*b*', 'abc', true], ['*x*', 'abc', false], ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'aXbYcZ', false], ['?', 'a', true], ['?', '', false], ['??', 'abc', false],
    ['a?c', 'abc', true], ['*.tar.gz', 'x.tar.gz', true], ['*.*.*', 'a.b', false],
    ['a**b', 'ab', true], ['abc', 'abc', true], ['abc', 'abd', false], ['', '', true], ['', 'a', false],
    ['*/x', 'a/b/x', true], // the matcher itself lets * match /; only pathname expansion splits at /
    ['?', 'é', true], // a character, not a UTF-16 unit or a byte
  ];
  for (const [pat, s, want] of cases) t.equal(patternOf(pat).matches(s), want, `'${pat}' ~ '${s}'`);
  // Many stars against a long non-match: no exponential backtracking.
  const start = Date.now();
  t.equal(patternOf('*a*a*a*a*a*a*a*a*b').matches('a'.repeat(5000)), false);
  t.ok(Date.now() - start < 2000, 'linear-ish time');
});

t.test('bracket expressions', async (t) => {
  const cases: [string, string, boolean][] = [
    ['[abc]', 'b', true], ['[abc]', 'd', false], ['[a-c]', 'b', true], ['[a-c]', 'B', false],
    ['[!a-c]', 'd', true], ['[!a-c]', 'a', false], ['[^x]', '^', true], ['[^x]', 'y', false],
    ['[]]', ']', true], ['[]a]', 'a', true], ['[!]]', ']', false], ['[!]]', 'x', true],
    ['[a-]', '-', true], ['[-a]', '-', true], ['[[:digit:]]', '7', true], ['[[:digit:]]', 'x', false],
    ['[[:alpha:][:digit:]]', 'q', true], ['[[:upper:]]*', 'Abc', true], ['[[:space:]]', ' ', true],
    ['[', '[', true], ['[a', '[a', true], ['a[', 'a[', true], ['[!', '[!', true], // no ']': literal
    ['x[0-9][0-9]', 'x42', true], ['x[0-9][0-9]', 'x4', false],
  ];
  for (const [pat, s, want] of cases) t.equal(patternOf(pat).matches(s), want, `'${pat}' ~ '${s}'`);
});

t.test('quoted characters are literal', async (t) => {
  const p = compilePattern([{ text: 'a', quoted: false }, { text: '*', quoted: true }, { text: '?', quoted: false }]);
  t.equal(p.matches('a*x'), true);
  t.equal(p.matches('abx'), false);
  t.equal(p.magic, true, 'the ? still is a wildcard');
  t.equal(compilePattern([{ text: '[a]', quoted: true }]).matches('a'), false);
  t.equal(compilePattern([{ text: '[a]', quoted: true }]).magic, false);
  t.equal(compilePattern([{ text: '[a-', quoted: false }, { text: '-', quoted: true }, { text: ']', quoted: false }]).matches('b'), false,
    'a quoted - makes no range');
  t.equal(patternOf('\\*').matches('*'), true, 'an unquoted backslash (from an expansion) quotes');
  t.equal(patternOf('\\*').matches('a'), false);
  t.equal(patternOf('a*').literal, 'a*');
});

function shell(): { run(s: string): string; err(): string } {
  const buf = bufferIo();
  const sh = new Shell(new Registry<unknown>(commands), {}, buf.io);
  return { run: (s) => { const before = buf.stdout.length; sh.runScript(s); return buf.stdout.slice(before); }, err: () => buf.stderr };
}

t.test('${x%pattern} and friends use the matcher', async (t) => {
  const sh = shell();
  t.equal(sh.run('x=a/b/c.d; echo ${x%/*} ${x%%/*} ${x#*/} ${x##*/} ${x%[!.]*} ${x#[[:alpha:]]}'), 'a/b a b/c.d c.d a/b/c. /b/c.d\n');
  t.equal(sh.run('p="*"; x=a*b; echo ${x%"$p"b} ${x%$p} ${x#a\\*}'), 'a a*b b\n', 'quoted pattern characters are literal');
});

t.test('pathname expansion on a host directory', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mktme-glob-'));
  const cwd = process.cwd();
  t.teardown(() => { process.chdir(cwd); fs.rmSync(dir, { recursive: true, force: true }); });
  for (const f of ['b.txt', 'a.txt', 'B.txt', '_x', 'c.log', '.hidden', 'sub/one', 'sub/two.txt', 'sub/.dot', 'sub2/x', 'lit[1]']) {
    fs.mkdirSync(path.join(dir, path.dirname(f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), '');
  }
  process.chdir(dir);
  const sh = shell();
  const run = (s: string): string => sh.run(s);
  try {
    t.equal(run('echo *'), 'B.txt _x a.txt b.txt c.log lit[1] sub sub2\n', 'C byte order, no dotfiles');
    t.equal(run('echo *.txt; echo ?.*; echo [ab].txt; echo [!a-z]*'), 'B.txt a.txt b.txt\nB.txt a.txt b.txt c.log\na.txt b.txt\nB.txt _x\n');
    t.equal(run('echo .*; echo .h*'), '.hidden\n.hidden\n', 'a leading . must be explicit (and . and .. are not made)');
    t.equal(run('echo sub/*; echo */*.txt; echo sub*/; echo */'), 'sub/one sub/two.txt\nsub/two.txt\nsub/ sub2/\nsub/ sub2/\n');
    t.equal(run('echo s*/o*; echo */x; echo su?/.*; echo nosuch/*'), 'sub/one\nsub2/x\nsub/.dot\nnosuch/*\n');
    t.equal(run('echo z*; echo "*" \\* \'*.txt\' "a"*'), 'z*\n* * *.txt a.txt\n', 'no match, or quoted: as written');
    t.equal(run('x="*.log"; echo $x "$x"; y="a b*"; for f in $y; do echo "<$f>"; done'), 'c.log *.log\n<a>\n<b.txt>\n',
      'an unquoted expansion is expanded after splitting');
    t.equal(run('echo lit[1] lit\\[*'), 'lit[1] lit[1]\n', 'a bracket that matches nothing, and an escaped [');
    t.equal(run('set -f; echo *.log; set +f; echo *.log'), '*.log\nc.log\n', 'set -f');
    t.equal(run('case a.txt in *.txt) echo c;; esac; echo [a]* > out; cat out'), 'c\na.txt\n', 'no expansion of case words or redirect targets');
    t.equal(run(`echo ${path.join(dir, 'sub')}/t*`), `${path.join(dir, 'sub')}/two.txt\n`, 'absolute paths');
  } finally {
    process.chdir(cwd);
  }
  // The module alone, with a fake directory tree.
  const fake = {
    list: (d: string) => (d === '.' ? ['b', 'a', '.x', 'd'] : d === 'd' ? ['z'] : []),
    stat: (p: string) => (p === 'd' ? { kind: 'dir' as const, size: 0 } : ['a', 'b', 'd/z'].includes(p) ? { kind: 'file' as const, size: 0 } : null),
  };
  t.same(expandPathname([{ text: '*', quoted: false }], fake), ['a', 'b', 'd']);
  t.same(expandPathname([{ text: '*/z', quoted: false }], fake), ['d/z']);
  t.same(expandPathname([{ text: '*/', quoted: false }], fake), ['d/']);
  t.equal(expandPathname([{ text: 'a', quoted: false }], fake), null, 'no pattern');
  t.equal(expandPathname([{ text: '*', quoted: true }], fake), null, 'quoted');
  t.equal(expandPathname([{ text: 'q*', quoted: false }], hostFiles), null, 'no match');
});

t.test('pathname expansion on the kernel\'s /proc, /sys and /dev', async (t) => {
  const r = await runShell(['--seed', '7', '--nodes', '1', '--cpus', '2', '--nvram', '0', '--append', 'quiet', '-c', [
    'echo /proc/*', 'echo /proc/[0-9]*', 'echo /proc/*/status', 'echo /sys/*/', 'echo /dev/n*',
    'echo /proc/nomatch* /proc/self/x*', 'for f in /proc/c*; do wc -l < $f > /dev/null && echo "$f"; done',
    'ls /proc | wc -l; set -- /proc/*; echo $#',
  ].join('\n')]);
  t.equal(r.stdout, [
    '/proc/1 /proc/2 /proc/buddyinfo /proc/cmdline /proc/cpuinfo /proc/iomem /proc/key-users /proc/keys /proc/meminfo /proc/self /proc/version',
    '/proc/1 /proc/2', '/proc/1/status /proc/2/status /proc/self/status', '/sys/block/ /sys/bus/ /sys/kernel/ /sys/power/',
    '/dev/null', '/proc/nomatch* /proc/self/x*', '/proc/cmdline', '/proc/cpuinfo', '11', '11', '',
  ].join('\n'));
  t.equal(r.status, 0);
});
