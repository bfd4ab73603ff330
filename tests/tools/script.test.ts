/**
 * tools/lib/script.ts: command separation, comments, quoting, escapes, errors.
 */
import t from 'tap';
import { parseScript, quoteWord } from '../../tools/lib/script.js';

function words(text: string): string[][] {
  const r = parseScript(text);
  if (!r.ok) throw new Error(`unexpected error: ${r.error}`);
  return r.value;
}

t.test('separators', async (t) => {
  t.same(words('echo a b'), [['echo', 'a', 'b']]);
  t.same(words('  echo\ta   b  '), [['echo', 'a', 'b']], 'runs of blanks');
  t.same(words('a; b;c'), [['a'], ['b'], ['c']], 'semicolons');
  t.same(words('a\nb\r\nc\n'), [['a'], ['b'], ['c']], 'newlines, CRLF');
  t.same(words(';;\n\n ; a ;;'), [['a']], 'empty commands dropped');
  t.same(words(''), []);
  t.same(words('   \n\t'), []);
});

t.test('comments', async (t) => {
  t.same(words('# a comment\necho hi # trailing\n#x; not run'), [['echo', 'hi']]);
  t.same(words('echo a#b'), [['echo', 'a#b']], '# inside a word is literal');
  t.same(words("echo '#' \\#x"), [['echo', '#', '#x']], 'quoted or escaped #');
  t.same(words('echo a;# c\necho b'), [['echo', 'a'], ['echo', 'b']], '# right after ;');
});

t.test('single quotes', async (t) => {
  t.same(words("write 0x1000 'hello world'"), [['write', '0x1000', 'hello world']]);
  t.same(words("echo 'a;b # c'"), [['echo', 'a;b # c']], 'separators and # are literal');
  t.same(words("echo 'a\\nb'"), [['echo', 'a\\nb']], 'backslash literal');
  t.same(words("echo 'two\nlines'; echo x"), [['echo', 'two\nlines'], ['echo', 'x']]);
  t.same(words("echo ''"), [['echo', '']], 'empty word');
  t.same(words("echo a'b c'd"), [['echo', 'ab cd']], 'quotes join with neighbours');
});

t.test('double quotes', async (t) => {
  t.same(words('echo "hello world"'), [['echo', 'hello world']]);
  t.same(words('echo "say \\"hi\\" \\\\ \\n"'), [['echo', 'say "hi" \\ \\n']], 'escapes " and \\ only');
  t.same(words('echo "it\'s"'), [['echo', "it's"]]);
  t.same(words('echo ""'), [['echo', '']]);
  t.same(words('echo "a\\\nb"'), [['echo', 'ab']], 'backslash-newline removed');
});

t.test('backslash outside quotes', async (t) => {
  t.same(words('echo a\\ b'), [['echo', 'a b']]);
  t.same(words('echo a\\;b'), [['echo', 'a;b']]);
  t.same(words("echo \\'"), [['echo', "'"]]);
  t.same(words('echo a \\\n b'), [['echo', 'a', 'b']], 'line continuation');
});

t.test('errors', async (t) => {
  const cases: [string, RegExp, number][] = [
    ["echo 'open", /unterminated single quote/, 1],
    ['echo ok\necho "open\nmore', /unterminated double quote/, 2],
    ['echo a\\', /backslash at end/, 1],
    ["a\nb\n'x\ny", /single quote/, 3],
  ];
  for (const [text, re, line] of cases) {
    const r = parseScript(text);
    t.equal(r.ok, false, JSON.stringify(text));
    if (!r.ok) {
      t.match(r.error, re);
      t.equal(r.line, line, 'line of the construct');
      t.equal(r.incomplete, true);
    }
  }
  const after = parseScript("echo 'a\nb' \"c\nd\" 'e");
  t.equal(after.ok, false);
  if (!after.ok) t.equal(after.line, 3, 'lines inside quotes are counted');
});

t.test('quoteWord round-trips', async (t) => {
  const samples = ['plain', '0x1000', '', 'a b', "it's", 'a;b', '#x', 'tab\there', 'back\\slash', '"q"', 'new\nline'];
  for (const s of samples) t.same(words(`cmd ${quoteWord(s)}`), [['cmd', s]], JSON.stringify(s));
  t.equal(quoteWord('--mem=16M'), '--mem=16M');
});
