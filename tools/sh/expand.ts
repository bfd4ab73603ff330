/**
 * Word expansion (XCU 2.6): parameters, command substitution and arithmetic, then
 * field splitting of the unquoted results on IFS, then pathname expansion (XCU 2.6.6,
 * tools/sh/glob.ts), then quote removal. There is no tilde expansion.
 *
 * Field splitting follows 2.6.5: IFS white space (space, tab, newline in IFS) around a
 * field is dropped and runs of it separate once; every other IFS character ends a field
 * (so empty fields are possible). Quoted text, and literal text of the word itself, are
 * never split; "" and "$empty" make an empty field, a bare $empty makes none.
 *
 * The positional parameters (XCU 2.5.1) are the environment's: $1.. ${10}, $#, and
 * $@ / $* (XCU 2.5.2): "$@" is one field per parameter, "$*" one field joined by the
 * first character of IFS; unquoted, both are one field per parameter, each split again.
 */
import type { List, Word, WordPart } from './ast.js';
import { ArithError, evalArith } from './arith.js';
import { expandPathname, type GlobFiles } from './glob.js';
import { compilePattern, type Pattern, type PatternText } from './pattern.js';

/** An expansion failed (${x?}, bad arithmetic): the command is not run, status 2. */
export class ExpansionError extends Error {}

export interface ExpandEnv {
  get(name: string): string | undefined;
  set(name: string, value: string): void;
  /** $? */
  readonly lastStatus: number;
  /** $$ */
  pid(): number;
  /** $0 and the positional parameters $1, $2, ... */
  readonly arg0: string;
  readonly params: readonly string[];
  /** Run $(list) and return its output, trailing newlines removed. */
  substitute(body: List): string;
  /** Where pathname expansion looks; null: none (`set -f`, or no files). */
  readonly files: GlobFiles | null;
  /** The `set` options on, as $- shows them (dash's order: "uxfe"); with u, an unset parameter is an error. */
  readonly options: string;
}

/** The operators that take an unset parameter as such: `set -u` does not make them an error. */
const UNSET_OK = new Set(['-', ':-', '=', ':=', '+', ':+', '?', ':?']);

/**
 * A piece of expanded text: `quoted` makes a field exist and its characters literal in
 * patterns, `split` allows IFS splitting; `brk` ends a field (between the fields of
 * "$@"), its text what joins them when the word makes one string.
 */
interface Seg { text: string; quoted: boolean; split: boolean; brk?: boolean }

const DEFAULT_IFS = ' \t\n';

/** Expand a word into fields (a command's arguments, for-loop items). */
export function expandFields(word: Word, env: ExpandEnv): string[] {
  const fields = splitFields(segments(word, env, false), env.get('IFS') ?? DEFAULT_IFS);
  return fields.flatMap((pieces) => (env.files && expandPathname(pieces, env.files)) || [pieces.map((p) => p.text).join('')]);
}

/** Expand a word into one string, without splitting (assignments, redirect targets). */
export function expandString(word: Word, env: ExpandEnv): string {
  return segments(word, env, false).map((s) => s.text).join('');
}

/** Expand a word into a pattern (XCU 2.9.4.3 case; 2.6.2 ${x%pattern}): quoting kept. */
export function expandPattern(word: Word, env: ExpandEnv): Pattern {
  return compilePattern(segments(word, env, false));
}

function segments(word: Word, env: ExpandEnv, inUnquotedArg: boolean): Seg[] {
  const out: Seg[] = [];
  for (const part of word.parts) out.push(...partSegments(part, env, inUnquotedArg));
  return out;
}

function partSegments(part: WordPart, env: ExpandEnv, inUnquotedArg: boolean): Seg[] {
  switch (part.kind) {
    case 'lit':
      // Literal text of ${x:-a b} is part of an expansion result: split when unquoted.
      return [{ text: part.text, quoted: part.quoted, split: inUnquotedArg && !part.quoted }];
    case 'subst': {
      const text = env.substitute(part.body);
      return [{ text, quoted: part.quoted, split: !part.quoted }];
    }
    case 'arith': {
      const expr = expandString(part.expr, env);
      let v: bigint;
      try {
        v = evalArith(expr, (n) => env.get(n));
      } catch (e) {
        if (e instanceof ArithError) throw new ExpansionError(`arithmetic expression: ${e.message}: "${expr.trim()}"`);
        throw e;
      }
      return [{ text: v.toString(), quoted: part.quoted, split: !part.quoted }];
    }
    case 'param':
      return paramSegments(part, env);
  }
}

/** The first character of IFS: what "$*" joins with (none when IFS is empty). */
function joiner(env: ExpandEnv): string {
  return (env.get('IFS') ?? DEFAULT_IFS).slice(0, 1);
}

function paramValue(name: string, env: ExpandEnv): string | undefined {
  switch (name) {
    case '?': return String(env.lastStatus);
    case '$': return String(env.pid());
    case '#': return String(env.params.length);
    case '0': return env.arg0;
    case '@': case '*': return env.params.join(joiner(env));
    case '-': return env.options;
    case '!': return undefined;
    default: return /^[0-9]+$/.test(name) ? env.params[Number(name) - 1] : env.get(name);
  }
}

/** $@ and $*: one field per parameter, except "$*" (one field, XCU 2.5.2). */
function allParams(name: string, quoted: boolean, env: ExpandEnv): Seg[] {
  if (quoted && name === '*') return [{ text: env.params.join(joiner(env)), quoted, split: false }];
  const out: Seg[] = [];
  env.params.forEach((text, i) => {
    if (i > 0) out.push({ text: joiner(env), quoted, split: false, brk: true });
    out.push({ text, quoted, split: !quoted });
  });
  return out;
}

function paramSegments(part: Extract<WordPart, { kind: 'param' }>, env: ExpandEnv): Seg[] {
  const { name, op, quoted } = part;
  if ((name === '@' || name === '*') && op === null) return allParams(name, quoted, env);
  const value = paramValue(name, env);
  if (value === undefined && !UNSET_OK.has(op ?? '') && env.options.includes('u')) {
    throw new ExpansionError(`${name}: parameter not set`); // set -u (XCU 2.14 set, nounset)
  }
  const result = (text: string): Seg[] => [{ text, quoted, split: !quoted }];
  if (op === null) return result(value ?? '');
  if (op === '#len') return result(String((value ?? '').length));
  const arg = (): Seg[] => (part.arg ? segments(part.arg, env, !quoted) : []);
  const argText = (): string => arg().map((s) => s.text).join('');
  const unsetOrNull = value === undefined || (op.startsWith(':') && value === '');
  switch (op) {
    case ':-': case '-':
      return unsetOrNull ? arg() : result(value!);
    case ':=': case '=':
      if (!unsetOrNull) return result(value!);
      if (!/^[A-Za-z_]/.test(name)) throw new ExpansionError(`${name}: cannot assign in this way`);
      env.set(name, argText());
      return result(env.get(name) ?? '');
    case ':+': case '+':
      return unsetOrNull ? result('') : arg();
    case ':?': case '?': {
      if (!unsetOrNull) return result(value!);
      const msg = argText();
      throw new ExpansionError(`${name}: ${msg || (op === ':?' ? 'parameter null or not set' : 'parameter not set')}`);
    }
    default:
      // %, %%, #, ##: remove the shortest/longest matching suffix/prefix (XCU 2.6.2).
      return result(removeMatch(value ?? '', compilePattern(arg()), op));
  }
}

function removeMatch(v: string, pat: Pattern, op: string): string {
  const chars = [...v];
  const lens = [...Array(chars.length + 1).keys()];
  if (op === '#' || op === '##') {
    if (op === '##') lens.reverse();
    for (const n of lens) if (pat.matches(chars.slice(0, n).join(''))) return chars.slice(n).join('');
    return v;
  }
  if (op === '%') lens.reverse();
  for (const n of lens) if (pat.matches(chars.slice(n).join(''))) return chars.slice(0, n).join('');
  return v;
}

/** Fields of text pieces, each piece quoted or not (pathname expansion needs to know). */
function splitFields(segs: Seg[], ifs: string): PatternText[][] {
  const fields: PatternText[][] = [];
  let cur: PatternText[] = [];
  let have = false; // the current field exists (has text or a quoted part)
  let afterWs = false; // the last thing seen was IFS white space that ended a field
  const add = (text: string, quoted: boolean): void => {
    const last = cur[cur.length - 1];
    if (last && last.quoted === quoted) last.text += text; else cur.push({ text, quoted });
  };
  const end = (): void => { fields.push(cur); cur = []; have = false; };
  const isWs = (c: string): boolean => (c === ' ' || c === '\t' || c === '\n') && ifs.includes(c);
  for (const s of segs) {
    if (s.brk) {
      if (have) end();
      afterWs = false;
      continue;
    }
    if (!s.split || ifs === '') {
      if (s.text !== '' || s.quoted) { add(s.text, s.quoted); have = true; afterWs = false; }
      continue;
    }
    for (const c of s.text) {
      if (isWs(c)) {
        if (have) { end(); afterWs = true; }
      } else if (ifs.includes(c)) {
        if (!(afterWs && !have)) fields.push(cur);
        cur = [];
        have = false;
        afterWs = false;
      } else {
        add(c, false);
        have = true;
        afterWs = false;
      }
    }
  }
  if (have) fields.push(cur);
  return fields;
}
