/**
 * tools/sh/parse.ts: command separation, comments, quoting, escapes, the grammar's
 * shapes and its errors (line, and whether more input could complete the text).
 */
import t from 'tap';
import { parseShell, splitWords } from '../../tools/sh/parse.js';
import type { List } from '../../tools/sh/ast.js';

/** The simple commands of a script of literal words, as argv lists. */
function words(text: string): string[][] {
  const r = parseShell(text);
  if (!r.ok) throw new Error(`unexpected error: ${r.error}`);
  return r.value.map((ao) => {
    const c = ao.first.commands[0];
    if (c.kind !== 'simple') throw new Error('not a simple command');
    return c.words.map((w) => w.parts.map((p) => (p.kind === 'lit' ? p.text : '?')).join(''));
  });
}

/** A compact picture of the tree: kinds and operators. */
function shape(list: List): string {
  return list.map((ao) => [ao.first, ...ao.rest.map((r) => r.pipeline)].map((p, i) =>
    (i > 0 ? ao.rest[i - 1].op + ' ' : '') + (p.bang ? '! ' : '') + p.commands.map((c) => {
      if (c.kind === 'simple') return `simple(${c.assigns.map((a) => a.name + '=').join('')}${c.words.length}w${c.redirects.map((r) => ' ' + r.fd + r.op).join('')})`;
      if (c.kind === 'if') return `if(${c.clauses.length}${c.otherwise ? '+else' : ''})`;
      if (c.kind === 'for') return `for(${c.name})`;
      if (c.kind === 'while') return c.until ? 'until' : 'while';
      if (c.kind === 'case') return `case(${c.items.map((i) => i.patterns.length).join(',')})`;
      if (c.kind === 'function') return `function(${c.name})`;
      return c.subshell ? 'subshell' : 'group';
    }).join(' | ')).join(' ')).join('; ');
}

function shapeOf(text: string): string {
  const r = parseShell(text);
  if (!r.ok) throw new Error(`unexpected error: ${r.error}`);
  return shape(r.value);
}

t.test('separators', async (t) => {
  t.same(words('echo a b'), [['echo', 'a', 'b']]);
  t.same(words('  echo\ta   b  '), [['echo', 'a', 'b']], 'runs of blanks');
  t.same(words('a; b;c'), [['a'], ['b'], ['c']], 'semicolons');
  t.same(words('a\nb\r\nc\n'), [['a'], ['b'], ['c']], 'newlines, CRLF');
  t.same(words('\n\n a ;\n\n'), [['a']], 'blank lines');
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
    ['if true; then\n echo a', /expecting 'fi' for 'if' on line 1/, 2],
    ['for x in a b; do', /expecting a command after 'do'/, 1],
    ['echo $(date', /unterminated '\$\('/, 1],
    ['echo a |', /unexpected end of file/, 1],
    ['true &&\n', /unexpected end of file/, 2],
    ['echo ${x', /unterminated/, 1],
    ['cat <<EOF', /unterminated here-document \(expecting 'EOF'\)/, 1],
    ['echo a\ncat <<EOF\nbody\nEOX', /unterminated here-document \(expecting 'EOF'\)/, 2],
    ['cat <<A <<B\na\nA\nb', /unterminated here-document \(expecting 'B'\)/, 1],
    ['cat <<EOF\n EOF\nEOF ', /unterminated here-document/, 1],
    ['case x in\na) echo a;;', /expecting 'esac' for 'case' on line 1/, 2],
    ['case x in a) echo', /expecting 'esac' for 'case' on line 1/, 1],
    ['case', /'case' needs a word/, 1],
    ['f()', /expecting a function body/, 1],
  ];
  for (const [text, re, line] of cases) {
    const r = parseShell(text);
    t.equal(r.ok, false, JSON.stringify(text));
    if (!r.ok) {
      t.match(r.error, re);
      t.equal(r.line, line, 'line of the construct');
      t.equal(r.incomplete, true);
    }
  }
  const after = parseShell("echo 'a\nb' \"c\nd\" 'e");
  t.equal(after.ok, false);
  if (!after.ok) t.equal(after.line, 3, 'lines inside quotes are counted');
});

t.test('syntax errors that no more input can fix', async (t) => {
  const cases: [string, RegExp, number][] = [
    ['fi', /unexpected token 'fi'/, 1],
    ['echo a; then', /unexpected token 'then'/, 1],
    ['echo a\n)', /unexpected token '\)'/, 2],
    ['sleep 1 &', /background jobs/, 1],
    ['f() echo hi', /unexpected token 'echo' \(expecting a compound command\)/, 1],
    ['a-b() { :; }', /bad function name 'a-b'/, 1],
    ['if() { :; }', /unexpected token '\)'/, 1],
    ['f(x) { :; }', /unexpected token 'x' \(expecting '\)'\)/, 1],
    ['x=1 f() { :; }', /unexpected token '\('/, 1],
    ['case x y', /unexpected token 'y' \(expecting 'in'\)/, 1],
    ['case x in a b) ;; esac', /unexpected token 'b' \(expecting '\)'\)/, 1],
    ['case x in a) echo; b) ;; esac', /unexpected token '\)'/, 1],
    ['case x in |a) ;; esac', /unexpected token '\|' \(expecting a pattern\)/, 1],
    ['cat <<$x\n$x', /delimiter must be a plain word/, 1],
    ['cat 3<<EOF\nEOF', /file descriptor 3/, 1],
    ['cat <<EOF\nEOF\nfi', /unexpected token 'fi'/, 3],
    ['echo a 3>f', /file descriptor 3/, 1],
    ['echo ${x!}', /bad substitution/, 1],
    ['for 1x in a; do echo; done', /bad for loop variable/, 1],
    ['if; then echo; fi', /unexpected token ';'/, 1],
    ['echo a ;; echo b', /unexpected token ';;'/, 1],
    ['; a', /unexpected token ';'/, 1],
  ];
  for (const [text, re, line] of cases) {
    const r = parseShell(text);
    t.equal(r.ok, false, JSON.stringify(text));
    if (!r.ok) {
      t.match(r.error, re, JSON.stringify(text));
      t.equal(r.line, line, `${JSON.stringify(text)}: line`);
      t.equal(r.incomplete, false, `${JSON.stringify(text)}: not incomplete`);
    }
  }
});

t.test('grammar', async (t) => {
  t.equal(shapeOf('a | b | c'), 'simple(1w) | simple(1w) | simple(1w)');
  t.equal(shapeOf('a && b || ! c'), 'simple(1w) && simple(1w) || ! simple(1w)');
  t.equal(shapeOf('k=1 j=2; k=1 cmd x'), 'simple(k=j=0w); simple(k=2w)');
  t.equal(shapeOf('echo k=1'), 'simple(2w)', 'an assignment only before the command name');
  t.equal(shapeOf("'k'=1"), 'simple(1w)', 'a quoted name is no assignment');
  t.equal(shapeOf('a > f 2>&1 < g >> h'), 'simple(1w 1> 2>& 0< 1>>)');
  t.equal(shapeOf('a 2>/dev/null'), 'simple(1w 2>)');
  t.equal(shapeOf('a 2 > f'), 'simple(2w 1>)', 'an IO number touches its operator');
  t.equal(shapeOf('if a; then b; elif c; then d; else e; fi'), 'if(2+else)');
  t.equal(shapeOf('if a\nthen\n b\nfi > out'), 'if(1)');
  t.equal(shapeOf('for x in 1 2; do echo $x; done | wc -l'), 'for(x) | simple(2w)');
  t.equal(shapeOf('for x\ndo echo; done'), 'for(x)');
  t.equal(shapeOf('while a; do b; done; until a; do b; done'), 'while; until');
  t.equal(shapeOf('{ a; b; } > f; (a; b)'), 'group; subshell');
  t.equal(shapeOf('echo if then fi'), 'simple(4w)', 'reserved words only at a command start');
  t.equal(shapeOf('echo }'), 'simple(2w)');
  t.equal(shapeOf('a &&\n b |\n c'), 'simple(1w) && simple(1w) | simple(1w)', 'newline after && and |');
  t.equal(shapeOf('case x in a|b) c;; (d) e; esac'), 'case(2,1)');
  t.equal(shapeOf('case x in a) ;; esac; case x\nin\n*) c\nesac'), 'case(1); case(1)', ';; optional before esac');
  t.equal(shapeOf('case x in esac | wc'), 'case() | simple(1w)');
  t.equal(shapeOf('echo case in esac'), 'simple(4w)');
  t.equal(shapeOf('f() { a; }; f'), 'function(f); simple(1w)');
  t.equal(shapeOf('f () ( a )'), 'function(f)');
  t.equal(shapeOf('f()\n\n{ a; } > out 2>&1\nf'), 'function(f); simple(1w)');
  t.equal(shapeOf('f() if a; then b; fi'), 'function(f)');
});

/** The here-documents of the first simple command: each one's parts, as kind/quoted/text. */
function docs(text: string): string[][] {
  const r = parseShell(text);
  if (!r.ok) throw new Error(`unexpected error: ${r.error}`);
  const c = r.value[0].first.commands[0];
  return c.redirects.filter((x) => x.op === '<<').map((x) => x.target.parts.map((p) =>
    p.kind === 'lit' ? `${p.quoted ? 'q' : 'u'}:${p.text}` : p.kind));
}

t.test('here-documents', async (t) => {
  t.same(docs('cat <<EOF\nhi $x\nEOF\n'), [['q:hi ', 'param', 'q:\n']], 'expanded, never split');
  t.same(docs("cat <<'EOF'\nhi $x `y`\nEOF"), [['q:hi $x `y`\n']], 'quoted: literal');
  t.same(docs('cat <<"E"\n$x\nE'), [['q:$x\n']]);
  t.same(docs('cat <<E\\OF\n$x\nEOF'), [['q:$x\n']], 'one quoted character is enough');
  t.same(docs('cat <<EOF\n\\$x \\` \\\\ \\" \\a "q" \'q\'\nEOF'), [['q:$x ` \\ \\" \\a "q" \'q\'\n']],
    'backslash quotes only $ ` \\ and newline');
  t.same(docs('cat <<EOF\na\\\nb\nEOF'), [['q:ab\n']], 'backslash-newline joins lines');
  t.same(docs('cat <<-EOF\n\t\ta\n\t b\n\tEOF'), [['q:a\n b\n']], '<<- strips leading tabs');
  t.same(docs('cat <<EOF\n\tEOF\nEOF'), [['q:\tEOF\n']], '<< keeps them: a tabbed delimiter is text');
  t.same(docs('cat <<EOF\nEOF'), [[]], 'empty, delimiter at end of input');
  t.same(docs('cat <<A <<-B; echo\n1\nA\n\t2\n\tB\n'), [['q:1\n'], ['q:2\n']], 'read in order after the line');
  t.same(docs('cat <<EOF\n$(echo "a\nb")\nEOF'), [['subst', 'q:\n']], 'a substitution over lines');
  const r = parseShell('x=$(cat <<EOF\ninside )\nEOF\n)\necho $x\nfi');
  t.equal(r.ok, false);
  if (!r.ok) t.equal(r.line, 6, 'lines of a here-document in $( ) are counted');
  const lines = parseShell('if true; then cat <<A\n1\n2\nA\nfi\ncat <<B\nB\n)');
  t.equal(lines.ok, false);
  if (!lines.ok) t.equal(lines.line, 8, 'and lines of every here-document');
});

t.test('expansions are kept apart in words', async (t) => {
  const r = parseShell('echo "a $x ${y:-d e}" $(b | c) `d` $((1 + $n)) \'$z\'');
  t.ok(r.ok);
  if (!r.ok) return;
  const c = r.value[0].first.commands[0];
  if (c.kind !== 'simple') return t.fail('simple');
  const kinds = c.words.map((w) => w.parts.map((p) => p.kind + (p.quoted ? '"' : '')).join(','));
  t.same(kinds, ['lit', 'lit",param",lit",param"', 'subst', 'subst', 'arith', 'lit"']);
});

t.test('splitWords (option lines)', async (t) => {
  t.same(splitWords("--append 'a b' --seed 7"), { ok: true, value: ['--append', 'a b', '--seed', '7'] });
  t.equal(splitWords('--x $HOME').ok, false, 'no expansions');
  t.equal(splitWords('a | b').ok, false, 'no pipes');
});
