/**
 * $((expression)): sh's arithmetic (XCU 2.6.4), C's integer operators on signed 64-bit
 * values (addresses fit: `$((a + 0x1000))`). Constants are decimal, 0x hex or leading-0
 * octal; a bare name is a variable (empty or unset is 0). Assignment operators
 * (= += -= ...), ++/-- are not supported.
 */

export class ArithError extends Error {}

const wrap = (v: bigint): bigint => BigInt.asIntN(64, v);

type Tok = { k: 'num'; v: bigint } | { k: 'name'; v: string } | { k: 'op'; v: string };

const OPS = ['<<', '>>', '<=', '>=', '==', '!=', '&&', '||', '+', '-', '*', '/', '%', '<', '>',
  '&', '^', '|', '!', '~', '?', ':', '(', ')'];

function tokenize(s: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (/\s/.test(c)) { i++; continue; }
    const num = /^(?:0[xX][0-9a-fA-F]+|[0-9]+)/.exec(s.slice(i));
    if (num) {
      const t = num[0];
      if (/[A-Za-z0-9_]/.test(s[i + t.length] ?? '')) throw new ArithError(`bad number '${s.slice(i).split(/\s/)[0]}'`);
      if (/^0[0-7]+$/.test(t)) toks.push({ k: 'num', v: BigInt('0o' + t.slice(1)) });
      else if (/^0[0-9]+$/.test(t)) throw new ArithError(`bad number '${t}'`);
      else toks.push({ k: 'num', v: BigInt(t) });
      i += t.length;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i));
    if (name) { toks.push({ k: 'name', v: name[0] }); i += name[0].length; continue; }
    const op = OPS.find((o) => s.startsWith(o, i));
    if (!op) throw new ArithError(`unexpected '${c}'`);
    if ((op === '+' || op === '-') && s[i + 1] === op) throw new ArithError(`'${op}${op}' is not supported`);
    toks.push({ k: 'op', v: op });
    i += op.length;
  }
  return toks;
}

/** Binary operators by precedence, loosest first (C's table). */
const LEVELS: string[][] = [['||'], ['&&'], ['|'], ['^'], ['&'], ['==', '!='], ['<', '<=', '>', '>='],
  ['<<', '>>'], ['+', '-'], ['*', '/', '%']];

/** Evaluate `expr`; `lookup` gives a variable's value (undefined = unset). */
export function evalArith(expr: string, lookup: (name: string) => string | undefined): bigint {
  if (/=/.test(expr.replace(/[=!<>]=/g, ''))) throw new ArithError('assignment is not supported');
  const toks = tokenize(expr);
  let pos = 0;
  const peek = (): Tok | undefined => toks[pos];
  const isOp = (v: string): boolean => { const t = peek(); return t !== undefined && t.k === 'op' && t.v === v; };
  const expect = (v: string): void => {
    if (!isOp(v)) throw new ArithError(`expecting '${v}'`);
    pos++;
  };
  const variable = (name: string, depth: number): bigint => {
    const v = (lookup(name) ?? '').trim();
    if (v === '') return 0n;
    if (depth > 8) throw new ArithError(`${name}: expression recursion too deep`);
    return evalArith(v, lookup);
  };

  const ternary = (): bigint => {
    const c = binary(0);
    if (!isOp('?')) return c;
    pos++;
    const a = ternary();
    expect(':');
    const b = ternary();
    return c !== 0n ? a : b;
  };
  const binary = (level: number): bigint => {
    if (level >= LEVELS.length) return unary();
    let left = binary(level + 1);
    for (;;) {
      const t = peek();
      if (!t || t.k !== 'op' || !LEVELS[level].includes(t.v)) return left;
      pos++;
      // && and || evaluate both sides here (no side effects exist), as values they agree.
      const right = binary(level + 1);
      left = apply(t.v, left, right);
    }
  };
  const unary = (): bigint => {
    const t = peek();
    if (t && t.k === 'op') {
      if (t.v === '-') { pos++; return wrap(-unary()); }
      if (t.v === '+') { pos++; return unary(); }
      if (t.v === '!') { pos++; return unary() === 0n ? 1n : 0n; }
      if (t.v === '~') { pos++; return wrap(~unary()); }
      if (t.v === '(') { pos++; const v = ternary(); expect(')'); return v; }
    }
    if (!t) throw new ArithError('expression expected');
    pos++;
    if (t.k === 'num') return wrap(t.v);
    if (t.k === 'name') return variable(t.v, 0);
    throw new ArithError(`unexpected '${t.v}'`);
  };

  if (toks.length === 0) return 0n;
  const v = ternary();
  if (pos < toks.length) {
    const t = toks[pos];
    throw new ArithError(`unexpected '${t.k === 'num' ? t.v.toString() : t.v}'`);
  }
  return v;
}

function apply(op: string, a: bigint, b: bigint): bigint {
  const bool = (x: boolean): bigint => (x ? 1n : 0n);
  switch (op) {
    case '||': return bool(a !== 0n || b !== 0n);
    case '&&': return bool(a !== 0n && b !== 0n);
    case '|': return wrap(a | b);
    case '^': return wrap(a ^ b);
    case '&': return wrap(a & b);
    case '==': return bool(a === b);
    case '!=': return bool(a !== b);
    case '<': return bool(a < b);
    case '<=': return bool(a <= b);
    case '>': return bool(a > b);
    case '>=': return bool(a >= b);
    case '<<': return wrap(a << (b & 63n));
    case '>>': return wrap(a >> (b & 63n));
    case '+': return wrap(a + b);
    case '-': return wrap(a - b);
    case '*': return wrap(a * b);
    case '/': case '%':
      if (b === 0n) throw new ArithError('division by zero');
      return wrap(op === '/' ? a / b : a % b);
    default: throw new ArithError(`unexpected '${op}'`);
  }
}
