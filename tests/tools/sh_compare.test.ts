/**
 * The shell language against /bin/sh: each line runs through this shell (generic
 * commands and filters on a dummy context) and through `sh -c` with the host's tools
 * in the C locale, and standard output and status must agree byte for byte. Only
 * constructs where POSIX fixes the answer are used (no echo with backslashes, no $$,
 * nothing where dash and bash differ). Lines needing a tool the host lacks are skipped;
 * tests/tools/filters.test.ts holds those tools' expected output as literals.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { bufferIo } from '../../tools/lib/io.js';
import { Registry, Shell } from '../../tools/registry.js';
import { commands } from '../../tools/commands/index.js';

const LINES = [
  // quoting
  `echo 'single $x' "double" a\\ b 'it''s' "a'b" 'a"b'`,
  `printf '%s\\n' "a\\tb" 'a\\tb' a\\\\b "\\$x" "\\\`"`,
  `x='a  b'; printf '[%s]\\n' $x "$x" '$x' "\${x}"`,
  `echo a#b #c; echo '#'d`,
  `x=" a "; y=$x; printf '[%s]\\n' "$y"`,
  // parameters
  `echo $?; false; echo $?; true; echo $?`,
  `x=abc.tar.gz; echo \${x%.*} \${x%%.*} \${x#*.} \${x##*.} \${#x}`,
  `unset x; echo "\${x-unset}" "\${x:-empty}"; x=; echo "\${x-unset}" "\${x:-empty}" "[\${x:+set}]"`,
  `echo "[\${u:=def}]" "$u"`,
  `x=1; x=2 true; echo $x`,
  `x=1 :; y=2 set -- a; echo "$x $y $1"; z=3 true; echo "[$z]"`,
  `IFS=,; x="a,b,,c,"; for f in $x; do echo "[$f]"; done`,
  `IFS=' :'; x="a : b::c"; for f in $x; do echo "[$f]"; done`,
  `x=""; for f in $x "$x"; do echo "[$f]"; done`,
  // command substitution
  `x=$(printf 'a\\n\\n\\n'); echo "[$x]"`,
  `f=$(printf 'a b\\nc'); for w in $f; do echo "<$w>"; done; echo "<$f>"`,
  `echo "$(echo "nested $(echo deep)")" \`echo back\` "\`echo q\`"`,
  `x=$(false); echo $?; x=$(exit 5); echo $?; echo $(exit 3) $?`,
  `a=$(echo hello | tr a-z A-Z); echo "$a"`,
  `x=1; y=$(x=2; echo $x); echo $x $y`,
  // arithmetic
  `x=5; echo $((x * 2)) $(($x + 1)) $(( (1+2) * 3 )) $((7/2)) $((-7%3)) $((1<<10)) $((0x10|1)) $((3>2 && 0)) $((010))`,
  `i=0; while [ $i -lt 3 ]; do echo $i; i=$((i+1)); done`,
  // statuses, && || !
  `false || echo or; true && echo and; ! true; echo $?; ! false; echo $?`,
  `true | false; echo $?; false | true; echo $?; ! false | false; echo $?`,
  `(exit 4); echo $?; nosuchcommand 2>/dev/null; echo $?`,
  `exit 3`,
  `true; exit`,
  `false && echo no; echo $?`,
  // control flow
  `if false; then echo a; elif true; then echo b; else echo c; fi; if false; then echo x; fi; echo $?`,
  `for i in 1 2 3 4; do if [ $i = 2 ]; then continue; fi; if [ $i = 4 ]; then break; fi; echo $i; done`,
  `for i in a b; do for j in 1 2 3; do [ $j = 2 ] && continue 2; echo $i$j; done; done`,
  `n=0; until [ $n -ge 2 ]; do n=$((n+1)); echo u$n; done; while true; do break; done; echo $?`,
  `for x in; do echo never; done; echo $?`,
  `{ echo a; echo b; } | wc -l; (echo c; echo d) | sort -r`,
  `x=out; (x=in; echo $x); echo $x`,
  // test
  `[ -z "" ] && [ -n x ] && [ 3 -gt 2 ] && [ abc != abd ] && test ! -e /nonexist && echo ok`,
  `test a = b; echo $?; test; echo $?; [ -n "" ]; echo $?; [ 1 -eq 1 -a 2 -gt 1 ]; echo $?; [ x = -n ]; echo $?`,
  `[ "(" ]; echo $?; [ ! = ! ]; echo $?; [ 1 -lt 2 -o 1 -gt 2 ]; echo $?`,
  // pipes and filters
  `printf '3\\n1\\n2\\n10\\n' | sort -n | head -n 3 | tail -n 1`,
  `printf 'b 2\\na 10\\nc 1\\na 10\\n' | sort; printf 'b 2\\na 10\\nc 1\\n' | sort -n -k 2; printf 'x\\ny\\nx\\n' | sort -u -r`,
  `printf 'x\\nx\\ny\\nx\\n' | uniq -c; printf 'x\\nx\\ny\\n' | uniq -d; printf 'x\\nx\\ny\\n' | uniq -u`,
  `printf 'a:b:c\\nd:e:f\\nnone\\n' | cut -d: -f 1,3; printf 'a:b:c\\nnone\\n' | cut -d: -f 2- -s; echo abcdef | cut -c 2-4`,
  `echo Hello World | tr a-z A-Z; echo Hello | tr -d l; echo 'aaa  bbb' | tr -s ' a'; echo abc123 | tr -cd 0-9; echo`,
  `printf 'one two\\nthree\\n' | wc; printf 'one two\\nthree' | wc -l; printf 'a b' | wc -w -c`,
  `printf 'foo\\nbar\\nFoo\\n' | grep -i -n foo; printf 'foo\\nbar\\n' | grep -c -v foo; printf 'foo1 foo22\\n' | grep -o -E 'fo+[0-9]+'`,
  `printf 'a(b\\nab\\naab\\n' | grep 'a(b'; printf 'ab\\naab\\n' | grep -E '^a{2}'; printf 'ab\\naab\\n' | grep '^a\\{2\\}'; printf 'a.b\\naxb\\n' | grep -F a.b`,
  `printf 'a.b\\naxb\\n\\n' | grep -c .; printf 'a.b\\naxb\\n' | grep 'a\\.b'; printf 'ab\\n' | grep -c 'a.*b$'`,
  `printf 'x\\n' | grep -q x; echo $?; printf 'x\\n' | grep y; echo $?; grep x /nonexist 2>/dev/null; echo $?`,
  `printf 'hello world\\n\\0\\1\\377' | xxd; printf hi | xxd -p; printf 'hello' | hexdump -C; printf 'hello' | hexdump`,
  // read
  `printf 'a b c\\nd e\\n' | while read x y; do echo "[$x][$y]"; done`,
  `printf 'one\\ntwo' | { read a; read b; echo "$a/$b $?"; }; read x < /dev/null; echo $? "[$x]"`,
  `printf '  lead  trail  \\n' | { read v; echo "[$v]"; }; printf 'a:b::c\\n' | { IFS=: read x y z; echo "[$x][$y][$z]"; }`,
  `printf 'a\\\\ b c\\\\\\nd\\n' | { read x y; echo "[$x][$y]"; }; printf 'a\\\\ b\\n' | { read -r x y; echo "[$x][$y]"; }`,
  `printf 'x\\ny\\n' | { read a; cat; }; a=1 b=$a; echo $b`,
  // redirections
  `printf 'a\\nb\\n' > f; printf 'c\\n' >> f; wc -l < f; cat f | sort -r; cat < f > g; cat g`,
  `echo err 1>&2 | wc -c; { echo out; echo err >&2; } 2>&1 | sort`,
  `echo a | tee t1 | cat; cat t1; cat nonexist 2>/dev/null; echo $?`,
  `printf 'a\\nb\\nc\\nd\\n' > d1; printf 'a\\nB\\nc\\nd\\ne\\n' > d2; diff d1 d2; echo $?; diff d1 d1; echo $?`,
  `printf '%d %s\\n' 1 a 2 b; printf '%x %o %5.2f|%-3s|%03d|%c\\n' 255 8 3.14159 a 7 xyz; printf 'no newline'`,
  // functions (XCU 2.9.5) and positional parameters (XCU 2.5.1, 2.5.2)
  `f() { echo "$# [$1] [$2]"; }; f a "b c"; f; f ''`,
  `f() { echo "$@"; for a in "$@"; do echo "<$a>"; done; for a; do echo "{$a}"; done; }; f 1 '2 3' ''`,
  `f() { echo $*; echo "$*"; IFS=:; echo "$*"; x="$*"; echo "$x"; }; f a 'b c' d`,
  `set -- a b c d e f g h i j k; echo $# $1 \${10} \${11} $10; shift 3; echo $# "$*"; shift; echo $1; shift 0; echo $#`,
  `f() { echo "in $1 $#"; set -- x y; echo $#; }; set -- p q r; f 1; echo $# $1; set --; echo $#`,
  `f() { return 3; echo no; }; f; echo $?; g() { false; return; }; g; echo $?; h() { true; }; h; echo $?`,
  `set -- a b; shift 2; echo $#; set -- a; shift 2`,
  `f() { if [ $1 -gt 0 ]; then echo $1; f $(($1 - 1)); fi; }; f 3; echo "$# $?"`,
  `fact() { if [ $1 -le 1 ]; then echo 1; else echo $(( $1 * $(fact $(($1 - 1))) )); fi; }; fact 10`,
  `echo() { printf 'my %s\\n' "$*"; }; echo hi there; test() { printf 'mine\\n'; }; test -n ''`,
  `f() { echo out; } > fout; f; f; cat fout; g() { echo "[$1]"; } ; echo hi | { read x; g "$x"; }`,
  `f() { read x; echo "got $x"; }; echo line | f; f() { echo redefined; }; f`,
  `f() { x=inner; y=$1; }; x=outer; f arg; echo $x $y`,
  `for i in 1 2; do f() { break; }; f; echo $i; done; f() { for i in 1 2 3; do [ $i = 2 ] && return 7; echo $i; done; }; f; echo $?`,
  `f() (x=sub; echo $x); x=top; f; echo $x; g()\n{\n  echo multi\n}\ng`,
  `echo a; return 4; echo b`,
  `x=$(return 5; echo no); echo $? "[$x]"; (return 6); echo $?`,
  `f() { echo "$1" | while read v; do echo "[$v]"; done; }; f 'a b'; f() { :; }; f && echo ok`,
  // case (XCU 2.9.4.3) and pattern matching (XCU 2.13)
  `for x in a.c b.h c.txt Makefile; do case $x in *.c|*.h) echo "src $x";; Make*) echo "make $x";; *) echo "other $x";; esac; done`,
  `case abc in (a*) echo paren;; esac; case x in y) echo no;; esac; echo $?; false; case x in y) ;; esac; echo $?`,
  `case x in x) false;; esac; echo $?; case a in a) ;; b) echo b;; esac; echo $?; case a in a) echo last; esac`,
  `for c in a b z 1 - ] '!' '^'; do case $c in [a-c]) echo "$c abc";; [!a-z]) echo "$c not";; *) echo "$c else";; esac; done`,
  `case y in [^x]) echo caret;; esac; case '^' in [^x]) echo hat;; esac; case ']' in []]) echo br;; esac; case 5 in [[:digit:]]) echo digit;; esac`,
  `x='*'; case abc in "$x") echo q;; $x) echo u;; esac; case '*' in "*") echo star;; esac; case 'a?' in a\\?) echo esc;; esac`,
  `case ab in ?) echo one;; ??) echo two;; esac; case "" in "") echo empty;; esac; case "a b" in "a b") echo sp;; esac`,
  `set -- start; case $1 in\n  start)\n    echo s\n    ;;\n  *)\n    echo d\nesac`,
  `case $(echo hi) in h*) echo cmd;; esac; y=b; case abc in a\${y}c) echo param;; esac; case x in esac; echo $?`,
  `case a in a) echo x;; esac | tr x y; case a.b in *.*.*) echo 2;; *.*) echo 1;; esac; case '[' in [) echo open;; esac`,
  `x=a/b/c.d; echo \${x%/*} \${x##*/} \${x#*[/.]} \${x%[!.]*}; p='*'; x=abc; echo \${x%$p}x \${x%"$p"} \${x#?}`,
  // here-documents (XCU 2.7.4)
  `x=val; cat <<EOF\nhello $x $(echo sub) $((1+2))\n\\$x \\\\ "q" 'q' \\" \\a\nEOF`,
  `x=val; cat <<'EOF'\n$x \`cmd\` \\$ "q"\nEOF\ncat <<"E"\n$x\nE\ncat <<E\\OF\n$x\nEOF`,
  `cat <<-EOF\n\tindented\n\t\tmore\n\t  spaced\n\tEOF\ncat <<A; cat <<B\none\nA\ntwo\nB`,
  `while read l; do echo "[$l]"; done <<EOF\na b\nc\nEOF\nx=$(cat <<EOF\ninside\nEOF\n); echo "$x"`,
  `cat <<EOF | tr a-z A-Z\nshout\nEOF\nf() { cat <<EOF\narg $1\nEOF\n}; f one; f two`,
  `cat <<EOF\na\\\nb\nEOF\ncat <<EOF\nEOF\nfor i in 1 2; do cat <<EOF\ni=$i\nEOF\ndone`,
  `cat <<EOF > hd; cat hd\nto file\nEOF \nEOF\ncat << EOF\nspaced op\nEOF`,
  // pathname expansion (XCU 2.6.6)
  `: > ga.txt; : > gb.txt; : > gc.log; : > .ghid; echo g*; echo g?.txt g[ab].txt g[!a]*; echo "g"* 'g*' g\\* gz* .gh*`,
  `for f in g*.txt; do echo "<$f>"; done; x='g*.log'; echo $x "$x"; set -f; echo g*; set +f; echo g*.log`,
  `set --; for a in "$@"; do echo never; done; echo "[$@]" "[$*]" $#; f() { echo $#; }; f "$@"; f "$@" ''`,
  `set -- 'a b' c; f() { echo $#; }; f $@; f "$@"; f $*; f "$*"; f x"$@"y; IFS=; echo "$*"; x=$*; echo "$x"`,
  `case b in a | b ) echo ok ;; esac; case a\nin\na) echo nl;;\nesac; for f in nomatch*; do echo "$f"; done; echo [ a[b`,
  // dot (XCU 2.14): host files in the working directory
  `printf 'x=1\\nf() { echo "f $1 $x"; }\\n' > dot1.sh; . ./dot1.sh; echo $x; f a; printf 'echo in\\nreturn 3\\necho no\\n' > dot2.sh; . ./dot2.sh; echo $?; g() { . ./dot2.sh; echo "g $?"; }; g; echo $?`,
  `printf 'echo "$# $1"; set -- changed\\n' > dot3.sh; set -- p q; . ./dot3.sh; echo "$# $1"; printf 'break\\n' > dot4.sh; for i in 1 2; do . ./dot4.sh; echo $i; done; echo end`,
  `: > dot5.sh; false; . ./dot5.sh; echo $?; printf 'false\\n' > dot5.sh; . ./dot5.sh; echo $?; printf 'echo "$1"\\n' > dot6.sh; f() { . ./dot6.sh; }; f arg; (. ./nope); echo $?`,
  `echo a; . ./nope`,
  // eval (XCU 2.14)
  `eval; echo $?; false; eval ''; echo $?; false; eval 'echo $?'; eval 'echo a; echo b' c; eval "x=5"; echo $x; eval false; echo $?`,
  `eval 'f() { echo "fun $1"; }'; f z; set -- a b; eval echo '$2'; eval "echo one\necho two"; x='echo "[$1]"'; eval "$x" "'a  b'"`,
  `for i in 1 2; do eval break; echo no; done; echo $i; f() { eval return 4; echo no; }; f; echo $?; (eval 'if'); echo $?; eval 'x=$(echo sub)'; echo $x`,
  `echo a; eval 'if'`,
  // local (dash's)
  `f() { local x=in y; echo "$x [$y]"; x=mod; }; x=out; f; echo $x \${y-unset}; g() { local x; echo "[\${x-unset}]"; x=2; }; g; echo $x`,
  `f() { local x=1; g; echo "f $x"; }; g() { echo "g $x"; x=2; }; f; echo "[\${x-unset}]"; h() { local x=1; return 3; }; x=o; h; echo $? $x`,
  `f() { v='a b=c'; local x=$v w="$v" u; echo "[$x] [$w] [\${b-unset}] [\${u-unset}]"; local IFS=:; x=p:q; echo $x; }; f; x=p:q; echo $x`,
  `f() { local x=1; local x=2; echo $x; }; x=o; f; echo $x; f() { local; echo $?; local x=1; unset x; echo "[\${x-unset}]"; }; f; echo $x`,
  `: > lm.sh; f() { local -; set -f; echo l*.sh; }; f; echo l*.sh; f() { (local x=sub; echo $x); echo $x; }; x=top; f; echo $x`,
  `f() { local x=1; f2; }; f2() { local x=2; echo $x; }; x=0; f; echo $x; f() { local x=in; x=$(echo "$x"); echo $x; }; f`,
  `echo a; local x=1`,
  `f() { local 1x; }; f`,
  // errors (XCU 2.8.1): a special built-in's or an expansion's stops the script; in a subshell, the subshell
  `set -- a; (shift 2); echo $?; shift 2; echo no`,
  `f() { return x; }; (f); echo $?; f; echo no`,
  `(echo \${u?}); echo $?; x=$(shift 3); echo "$? [$x]"; echo \${u?}; echo no`,
  `for i in 1; do (break 0); echo $?; done; exit abc; echo no`,
  `(unset 1x); echo $?; (. ./nonexistent.sh); echo $?; (eval 'if'); echo $?; : \${u:?}; echo no`,
  `f() { shift 4; echo no; }; g() { f; echo no; }; (g); echo $?; x=$((1/0)); echo no`,
  // set -e, -u, -x (XCU 2.14 set): where errexit applies and where it is ignored, nounset, xtrace's words
  `set -e; f() { false && true; }; f; echo after-f`,
  `set -e; { false && true; }; echo group; if false; then :; fi; false || true; ! true; echo here; false | true; (false); echo no`,
  `set -e; x=$(false; echo in); echo "[$x]"`,
  `set -e; for i in 1 2; do false; done; echo no`,
  `set -e; f() { false; echo in-f; }; if f; then echo then; fi; f && echo and; while f; do break; done; until f; do :; done; echo end`,
  `set -u; echo "\${x-d}" "$@"; (echo $x); echo "st $?"; (: \${#y}); echo "st $?"; echo \${z:-ok}`,
  `set -xuef; echo $-; set +xuef; echo $-; f() { local -; set -e; }; f; echo "[$-]"; set -o nounset -o noglob; echo $-`,
  `(set -x; echo a "" b) 2>&1; PS4='> '; (set -x; x=1 echo "$x" c; y=$(echo z)) 2>&1`,
  // export and readonly (XCU 2.14); a readonly variable's assignment is an error that ends the script
  `readonly x=1; (x=2); echo "st $?"; echo \${x=3} \${y=4}; readonly; readonly -p; (unset x); echo "st $?"; (for x in a; do :; done); echo "st $?"; x=2; echo no`,
  `readonly x=1; (echo a | read x; echo "in $?"); f() { local x=2; }; (f); echo "st $?"; (export x=2); echo "st $?"; export x; echo $?; x=3 true; echo no`,
  `export z=5 w; export -p | grep -e ' z=' -e ' w$'; v="a b"; export q=$v; echo "$q"; (readonly 1x=2); echo "st $?"; f() { local y; readonly y=1; echo "in $y"; }; f; echo "[\${y-unset}]"; y=2; echo $y`,
  // type, command, wait (dash's words)
  `f() { :; }; type echo set f if nope local export; echo "st $?"; command -v echo; command -v f; command -v if; command -v nope; echo "st $?"`,
  `command -V echo; command -V nope; echo "st $?"; command shift 5; echo "after $?"; printf() { echo fn; }; command printf 'real\n'; printf x; wait; echo "w $?"; wait 1234; echo "w $?"; type; command; echo $?`,
  // trap (XCU 2.14): EXIT runs at the end, on exit, on an error that stops the script, in subshells their own
  `trap "echo bye \$?" EXIT; trap; trap - EXIT; trap; trap "echo t" 0 INT; trap; trap "" TERM; trap; trap 2; trap; trap FOO; echo "st $?"`,
  `trap "echo bye; exit 5" EXIT; exit 3`,
  `(trap "echo sub-bye" EXIT; echo in); echo out; x=$(trap "echo cs" EXIT; echo v); echo "[$x]"; (trap); trap 'echo "last $?"' EXIT; (exit 7)`,
  `trap "echo bye" EXIT; shift 4`,
  `trap "echo bye" EXIT; set -e; false; echo no`,
  // getopts, dash's options.c word for word
  `set -- -a -b val -cfoo -x rest; while getopts "ab:c:" o 2>/dev/null; do echo "o=$o OPTARG=\${OPTARG-unset} OPTIND=$OPTIND"; done; shift $((OPTIND-1)); echo "rest: $*"`,
  `set -- -x -b; while getopts ":ab:" o; do echo "o=$o OPTARG=\${OPTARG-unset}"; done; OPTIND=1; set -- -b; getopts "b:" o 2>/dev/null; echo "st $? o=$o [\${OPTARG-unset}]"; OPTIND=1; getopts "ab" o -a -b -- -c; echo "$o $OPTIND"; getopts "ab" o -a -b -- -c; echo "$o $OPTIND"; getopts "ab" o -a -b -- -c; echo "$? $o $OPTIND"`,
  `set -- -ab -c; getopts abc o; echo "$o $OPTIND"; getopts abc o; echo "$o $OPTIND"; getopts abc o; echo "$o $OPTIND"; getopts abc o; echo "$? $o $OPTIND"; set -- - x; OPTIND=1; getopts a o; echo "$? $o $OPTIND"; getopts 2>/dev/null; echo $?`,
  `f() { local OPTIND=1 o; while getopts "v" o; do echo "f: $o"; done; shift $((OPTIND-1)); echo "f rest: $*"; }; f -v -v x y; f -v z; getopts "q" o -q; echo "$o $OPTIND"`,
  `f() { x=5 local y; echo "[$x]"; }; f; echo "[$x]"; type local`,
  `type() { echo "my type"; }; type x; getopts() { echo mine; }; getopts a b; wait() { echo w; }; wait; command type echo; command -v getopts`,
  `f() { echo f; }; f; unset -f f nothing; f 2>/dev/null; echo $?; x=1; f=2; unset -v x; echo "[\${x-unset}] $f"; unset f; echo "[\${f-unset}]"`,
];

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mktme-sh-compare-'));
const ours = path.join(dir, 'ours');
const theirs = path.join(dir, 'sh');
fs.mkdirSync(ours);
fs.mkdirSync(theirs);
const cwd = process.cwd();
t.teardown(() => {
  process.chdir(cwd);
  fs.rmSync(dir, { recursive: true, force: true });
});

function runOurs(line: string): { out: string; status: number } {
  process.chdir(ours);
  try {
    const buf = bufferIo();
    const sh = new Shell(new Registry<unknown>(commands), {}, buf.io);
    const status = sh.runExitTrap(sh.runScript(line)); // the end of `sh -c`: its EXIT trap
    return { out: buf.stdout, status };
  } finally {
    process.chdir(cwd);
  }
}

function runSh(line: string): { out: string; status: number } {
  try {
    const out = execFileSync('/bin/sh', ['-c', line], {
      cwd: theirs, env: { PATH: process.env.PATH, LC_ALL: 'C' }, encoding: 'latin1', stdio: ['ignore', 'pipe', 'ignore'],
    });
    return { out, status: 0 };
  } catch (e) {
    const err = e as { stdout: string; status: number };
    return { out: err.stdout, status: err.status };
  }
}

const haveSh = fs.existsSync('/bin/sh');
/** Tools some hosts lack (xxd comes with vim, hexdump with util-linux's extras). */
const OPTIONAL = ['xxd', 'hexdump', 'diff'];
const missing = new Set(OPTIONAL.filter((tool) => {
  if (!haveSh) return true;
  try {
    execFileSync('/bin/sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return false;
  } catch {
    return true;
  }
}));

for (const line of LINES) {
  const lacking = OPTIONAL.filter((tool) => missing.has(tool) && new RegExp(`\\b${tool}\\b`).test(line));
  const skip = !haveSh ? 'no /bin/sh on this host' : lacking.length ? `the host has no ${lacking.join(', ')}` : false;
  t.test(line, { skip }, async (t) => {
    const a = runOurs(line);
    const b = runSh(line);
    t.equal(a.out, b.out, 'stdout');
    t.equal(a.status, b.status, 'status');
  });
}
