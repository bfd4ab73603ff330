/**
 * Word expansion (XCU 2.6): parameters, command substitution and arithmetic, then
 * field splitting of the unquoted results on IFS, then quote removal. There is no
 * tilde or pathname expansion (`*` stays literal: the kernel's files are not the host's).
 *
 * Field splitting follows 2.6.5: IFS white space (space, tab, newline in IFS) around a
 * field is dropped and runs of it separate once; every other IFS character ends a field
 * (so empty fields are possible). Quoted text, and literal text of the word itself, are
 * never split; "" and "$empty" make an empty field, a bare $empty makes none.
 */
import type { List, Word, WordPart } from './ast.js';
import { ArithError, evalArith } from './arith.js';

/** An expansion failed (${x?}, bad arithmetic): the command is not run, status 2. */
export class ExpansionError extends Error {}

export interface ExpandEnv {
  get(name: string): string | undefined;
  set(name: string, value: string): void;
  /** $? */
  readonly lastStatus: number;
  /** $$ */
  pid(): number;
  /** Run $(list) and return its output, trailing newlines removed. */
  substitute(body: List): string;
}

/** A piece of expanded text: `quoted` makes a field exist, `split` allows IFS splitting. */
interface Seg { text: string; quoted: boolean; split: boolean; glob: boolean }

const DEFAULT_IFS = ' \t\n';

/** Expand a word into fields (a command's arguments, for-loop items). */
export function expandFields(word: Word, env: ExpandEnv): string[] {
  return splitFields(segments(word, env, false), env.get('IFS') ?? DEFAULT_IFS);
}

/** Expand a word into one string, without splitting (assignments, redirect targets). */
export function expandString(word: Word, env: ExpandEnv): string {
  return segments(word, env, false).map((s) => s.text).join('');
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
      return [{ text: part.text, quoted: part.quoted, split: inUnquotedArg && !part.quoted, glob: !part.quoted }];
    case 'subst': {
      const text = env.substitute(part.body);
      return [{ text, quoted: part.quoted, split: !part.quoted, glob: false }];
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
      return [{ text: v.toString(), quoted: part.quoted, split: !part.quoted, glob: false }];
    }
    case 'param':
      return paramSegments(part, env);
  }
}

function paramValue(name: string, env: ExpandEnv): string | undefined {
  switch (name) {
    case '?': return String(env.lastStatus);
    case '$': return String(env.pid());
    case '#': return '0';
    case '0': return 'sh';
    case '@': case '*': case '-': return '';
    case '!': return undefined;
    default: return /^[0-9]+$/.test(name) ? undefined : env.get(name);
  }
}

function paramSegments(part: Extract<WordPart, { kind: 'param' }>, env: ExpandEnv): Seg[] {
  const { name, op, quoted } = part;
  const value = paramValue(name, env);
  const result = (text: string): Seg[] => [{ text, quoted, split: !quoted, glob: false }];
  // "$@" with no positional parameters is no field at all.
  if ((name === '@' || name === '*') && op === null) return quoted && name === '@' ? [] : result('');
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
    default: {
      // %, %%, #, ##: remove the shortest/longest matching suffix/prefix.
      const v = value ?? '';
      const re = globRegex(arg());
      return result(removeMatch(v, re, op));
    }
  }
}

/** The pattern of ${x%pattern}: quoted parts literal, unquoted * ? [...] glob. */
function globRegex(segs: Seg[]): string {
  let src = '';
  for (const s of segs) {
    if (!s.glob) { src += escapeRe(s.text); continue; }
    const t = s.text;
    for (let i = 0; i < t.length; i++) {
      const c = t[i];
      if (c === '*') src += '[\\s\\S]*';
      else if (c === '?') src += '[\\s\\S]';
      else if (c === '[') {
        const close = t.indexOf(']', i + 2);
        if (close < 0) { src += '\\['; continue; }
        let body = t.slice(i + 1, close);
        if (body.startsWith('!')) body = '^' + body.slice(1);
        src += '[' + body.replace(/\\/g, '\\\\') + ']';
        i = close;
      } else src += escapeRe(c);
    }
  }
  return src;
}

function escapeRe(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}

function removeMatch(v: string, pattern: string, op: string): string {
  const re = new RegExp(`^(?:${pattern})$`);
  if (op === '#' || op === '##') {
    const lens = [...Array(v.length + 1).keys()];
    if (op === '##') lens.reverse();
    for (const n of lens) if (re.test(v.slice(0, n))) return v.slice(n);
    return v;
  }
  const starts = [...Array(v.length + 1).keys()];
  if (op === '%') starts.reverse();
  for (const n of starts) if (re.test(v.slice(n))) return v.slice(0, n);
  return v;
}

function splitFields(segs: Seg[], ifs: string): string[] {
  const fields: string[] = [];
  let cur = '';
  let have = false; // the current field exists (has text or a quoted part)
  let afterWs = false; // the last thing seen was IFS white space that ended a field
  const isWs = (c: string): boolean => (c === ' ' || c === '\t' || c === '\n') && ifs.includes(c);
  for (const s of segs) {
    if (!s.split || ifs === '') {
      if (s.text !== '' || s.quoted) { cur += s.text; have = true; afterWs = false; }
      continue;
    }
    for (const c of s.text) {
      if (isWs(c)) {
        if (have) { fields.push(cur); cur = ''; have = false; afterWs = true; }
      } else if (ifs.includes(c)) {
        if (!(afterWs && !have)) fields.push(cur);
        cur = '';
        have = false;
        afterWs = false;
      } else {
        cur += c;
        have = true;
        afterWs = false;
      }
    }
  }
  if (have) fields.push(cur);
  return fields;
}
