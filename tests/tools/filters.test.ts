/**
 * The filters with exact expectations (recorded from GNU grep 3.8, coreutils 9.1,
 * vim's xxd, util-linux hexdump and GNU diff 3.8 in the C locale), so they hold on a
 * host without those tools; and their error paths: usage (status 2), unreadable
 * files ("NAME: FILE: reason"), grep's and diff's statuses.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { bufferIo } from '../../tools/lib/io.js';
import { Registry, Shell } from '../../tools/registry.js';
import { commands } from '../../tools/commands/index.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mktme-filters-'));
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));

function run(script: string): { out: string; err: string; status: number } {
  const buf = bufferIo();
  const sh = new Shell(new Registry<unknown>(commands), {}, buf.io);
  sh.setVar('D', dir);
  const status = sh.runScript(script);
  return { out: buf.stdout, err: buf.stderr, status };
}

t.test('xxd and hexdump on bytes from a pipe', async (t) => {
  t.equal(run(`printf 'hello world\\n\\0\\1\\377' | xxd`).out,
    '00000000: 6865 6c6c 6f20 776f 726c 640a 0001 ff    hello world....\n');
  t.equal(run(`printf 'hello' | xxd -p`).out, '68656c6c6f\n');
  t.equal(run(`printf 'a' | xxd -u -s 0 -l 1 -g 1`).out, '00000000: 61                                               a\n');
  const zeros = '\\0'.repeat(48);
  t.equal(run(`printf 'a${zeros}x' | hexdump -C`).out,
    '00000000  61 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |a...............|\n' +
    '00000010  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|\n' +
    '*\n' +
    '00000030  00 78                                             |.x|\n' +
    '00000032\n');
  t.equal(run(`printf 'hello' | hexdump`).out, '0000000 6568 6c6c 006f                         \n0000005\n');
  t.equal(run(`printf '' | hexdump -C; printf '' | xxd`).out, '', 'nothing for no input');
});

t.test('diff', async (t) => {
  const setup = `printf 'a\\nb\\nc\\nd\\n' > $D/d1; printf 'a\\nB\\nc\\nd\\ne\\n' > $D/d2; printf 'x\\ny' > $D/d3; printf 'x\\nz\\n' > $D/d4; cd=$D; `;
  let r = run(setup + `diff $D/d1 $D/d2`);
  t.equal(r.out, '2c2\n< b\n---\n> B\n4a5\n> e\n');
  t.equal(r.status, 1);
  r = run(setup + `diff -u $D/d3 $D/d4`);
  t.equal(r.out, `--- ${dir}/d3\n+++ ${dir}/d4\n@@ -1,2 +1,2 @@\n x\n-y\n\\ No newline at end of file\n+z\n`);
  r = run(setup + `diff $D/d3 $D/d4`);
  t.equal(r.out, '2c2\n< y\n\\ No newline at end of file\n---\n> z\n');
  r = run(setup + `printf 'a\\nb\\nc\\nd\\n' | diff $D/d1 -`);
  t.same([r.out, r.status], ['', 0], 'an output compared with a file');
  r = run(`diff $D/nope $D/nope2`);
  t.same([r.err, r.status], [`diff: ${dir}/nope: No such file or directory\ndiff: ${dir}/nope2: No such file or directory\n`, 2]);
  t.equal(run('diff a').status, 2, 'usage');
  // Past MAX_EDITS the middle becomes one replacement: still a correct edit script.
  r = run(`i=0; while [ $i -lt 1100 ]; do echo a$i; echo b$i >&2; i=$((i+1)); done > $D/big1 2> $D/big2; diff $D/big1 $D/big2 | head -n 1; diff $D/big1 $D/big2 | wc -l`);
  t.equal(r.out, '1,1100c1,1100\n2202\n', 'one hunk: header, 1100 <, ---, 1100 >');
});

t.test('grep', async (t) => {
  const text = `printf 'alpha\\nBeta\\ngamma\\nbeta2\\n'`;
  t.equal(run(`${text} | grep -i beta`).out, 'Beta\nbeta2\n');
  t.equal(run(`${text} | grep -v -n a$`).out, '4:beta2\n');
  t.equal(run(`${text} | grep -c -E 'a|2'`).out, '4\n');
  t.equal(run(`${text} | grep -o -E '[a-z]m+'`).out, 'amm\n');
  t.equal(run(`${text} | grep -w beta`).status, 1, '-w: beta2 is not the word beta');
  t.equal(run(`${text} | grep -x -e alpha -e gamma`).out, 'alpha\ngamma\n');
  t.equal(run(`${text} | grep '[[:upper:]]'`).out, 'Beta\n');
  t.equal(run(`${text} | grep 'a\\(m\\)\\1'`).out, 'gamma\n', 'BRE group and back reference');
  t.equal(run(`${text} | grep -q gamma; echo $?`).out, '0\n');
  t.equal(run(`${text} | grep -m1 a; ${text} | grep -c -m 2 a; ${text} | grep -m 0 a; echo $?`).out, 'alpha\n2\n1\n');
  t.equal(run(`${text} | grep -c .; ${text} | grep 'a.p'; ${text} | grep -c 'a\\.p'`).out, '4\nalpha\n0\n', '. and \\.');
  t.equal(run(`echo 'a+b a{1}' | grep -o 'a+b'; echo 'aab' | grep -o -E 'a+b'; echo 'a{1}' | grep -o -E 'a{1}'`).out, 'a+b\naab\na\n');
  let r = run(`grep x $D/missing`);
  t.same([r.err, r.status], [`grep: ${dir}/missing: No such file or directory\n`, 2]);
  r = run(`grep -s x $D/missing`);
  t.same([r.err, r.status], ['', 2], '-s: no message');
  r = run(`printf 'ab\\n' > $D/g1; printf 'b\\n' > $D/g2; grep b $D/g1 $D/g2; grep -l a $D/g1 $D/g2; grep -c b $D/g1 $D/g2`);
  t.equal(r.out, `${dir}/g1:ab\n${dir}/g2:b\n${dir}/g1\n${dir}/g1:1\n${dir}/g2:1\n`, 'file names with several files');
  r = run(`echo x | grep -E '('`);
  t.equal(r.status, 2, 'bad pattern');
  t.match(r.err, /^grep: /);
  t.equal(run('grep').status, 2, 'missing pattern: usage');
  t.equal(run('grep -Z x').err, "grep: invalid option -- 'Z'\nusage: grep [-EFcHhilnoqsvwx] [-m NUM] [-e PATTERN]... PATTERN [FILE...]\n");
});

t.test('head, tail, wc, sort, uniq, cut, tr, tee', async (t) => {
  const nums = `printf '1\\n2\\n3\\n4\\n5\\n'`;
  t.equal(run(`${nums} | head -n 2; ${nums} | head -2; ${nums} | head -n -3`).out, '1\n2\n1\n2\n1\n2\n');
  t.equal(run(`${nums} | tail -n 2; ${nums} | tail -n +4; ${nums} | tail -1`).out, '4\n5\n4\n5\n5\n');
  t.equal(run(`printf 'abcdef' | head -c 3; printf 'abcdef' | tail -c 2`).out, 'abcef');
  t.equal(run(`${nums} > $D/n; head -n 1 $D/n $D/n`).out, `==> ${dir}/n <==\n1\n\n==> ${dir}/n <==\n1\n`);
  t.equal(run('head -n x').status, 2);
  t.equal(run(`printf 'a b\\nc\\n' | wc; printf 'a b\\nc\\n' | wc -l; printf 'a b\\nc\\n' > $D/w; wc $D/w; wc -c $D/w $D/w`).out,
    `      2       3       6\n2\n2 3 6 ${dir}/w\n 6 ${dir}/w\n 6 ${dir}/w\n12 total\n`);
  t.equal(run(`printf '10\\n9\\n-1\\nx\\n9\\n' | sort -n -u`).out, '-1\nx\n9\n10\n');
  t.equal(run(`printf 'b:2\\na:10\\nc:1\\n' | sort -t: -k2n`).out, 'c:1\nb:2\na:10\n');
  t.equal(run(`printf 'B\\na\\nC\\n' | sort; printf 'B\\na\\nC\\n' | sort -f -r`).out, 'B\nC\na\nC\nB\na\n');
  t.equal(run(`printf 'a\\na\\nb\\n' | uniq -c`).out, '      2 a\n      1 b\n');
  t.equal(run(`echo 'a,b,c' | cut -d, -f 3,1; echo abc | cut -b 2-`).out, 'a,c\nbc\n');
  t.equal(run('cut -f 0').status, 2, 'fields are numbered from 1');
  t.equal(run(`echo hello | tr el ip; echo 'a\tb' | tr '\\t' ' '; echo abc | tr '[:lower:]' '[:upper:]'`).out, 'hippo\na b\nABC\n');
  t.equal(run(`echo hello | tr -s l; echo hello | tr -d`).status, 2, 'tr -d needs a set');
  const r = run(`printf 'x\\n' | tee $D/t1 $D/t2 | tr x y; cat $D/t1 $D/t2; echo z | tee -a $D/t1 > /dev/null; cat $D/t1`);
  t.equal(r.out, 'y\nx\nx\nx\nz\n');
});

t.test('cat and files', async (t) => {
  let r = run(`echo hi > $D/c; cat $D/c - < $D/c; cat $D/none; echo $?`);
  t.equal(r.out, 'hi\nhi\n1\n');
  t.equal(r.err, `cat: ${dir}/none: No such file or directory\n`);
  r = run(`echo x > $D/nodir/f; echo $?`);
  t.equal(r.err, `sh: ${dir}/nodir/f: No such file or directory\n`);
  t.equal(r.out, '1\n', 'a failed redirection: the command does not run, status 1');
  r = run(`cat < $D/none; echo $?`);
  t.equal(r.out, '1\n');
});
