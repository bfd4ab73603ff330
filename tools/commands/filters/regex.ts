/**
 * POSIX regular expressions (XBD 9, basic and extended) as JavaScript RegExp source,
 * with GNU grep's extensions: \| \+ \? in basic ones, \< \> \b \w \W \s \S, back
 * references \1..\9, and `{` taken literally where it does not start an interval.
 *
 * In a BRE, ( ) { } | + ? are literal unless escaped; `*` is literal at the start;
 * `^` anchors only at the start and `$` only at the end (of the pattern or of a group).
 * Bracket expressions keep POSIX rules: `]` first is literal, a backslash is literal,
 * [:alpha:] and the other classes (C locale).
 */

const CLASSES: Record<string, string> = {
  alpha: 'A-Za-z', digit: '0-9', alnum: '0-9A-Za-z', upper: 'A-Z', lower: 'a-z',
  space: ' \\t\\n\\r\\f\\v', blank: ' \\t', punct: '!-\\/:-@\\[-`{-~', print: ' -~',
  graph: '!-~', cntrl: '\\x00-\\x1f\\x7f', xdigit: '0-9A-Fa-f',
};

export class RegexError extends Error {}

function escapeJs(c: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? '\\' + c : c;
}

/** A bracket expression starting at p[i] === '['; returns [source, index after ']']. */
function bracket(p: string, i: number): [string, number] {
  let j = i + 1;
  let out = '[';
  if (p[j] === '^') { out += '^'; j++; }
  let first = true;
  for (; j < p.length; j++) {
    const c = p[j];
    if (c === ']' && !first) return [out + ']', j + 1];
    first = false;
    if (c === '[' && (p[j + 1] === ':' || p[j + 1] === '=' || p[j + 1] === '.')) {
      const kind = p[j + 1];
      const close = p.indexOf(kind + ']', j + 2);
      if (close < 0) throw new RegexError('unmatched [, [^, [:, [., or [=');
      const name = p.slice(j + 2, close);
      if (kind === ':') {
        if (!(name in CLASSES)) throw new RegexError('invalid character class');
        out += CLASSES[name];
      } else {
        out += escapeJs(name);
      }
      j = close + 1;
      continue;
    }
    out += c === '\\' || c === ']' || c === '[' || c === '^' ? '\\' + c : c;
  }
  throw new RegexError('unmatched [, [^, [:, [., or [=');
}

/** Translate a POSIX pattern (`extended` for ERE) to RegExp source. */
function posixToJs(p: string, extended: boolean): string {
  let out = '';
  let atStart = true; // where `*` is literal and (BRE) `^` anchors
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    const start = atStart;
    atStart = false;
    if (c === '\\') {
      const d = p[i + 1];
      if (d === undefined) throw new RegexError('trailing backslash (\\)');
      i++;
      if (!extended && '(){}|+?'.includes(d)) {
        out += d;
        if (d === '(' || d === '|') atStart = true;
      } else if (d === '<') out += '\\b(?=\\w)';
      else if (d === '>') out += '\\b(?<=\\w)';
      else if ('bBwWsS'.includes(d) || /[1-9]/.test(d)) out += '\\' + d;
      else out += escapeJs(d);
      continue;
    }
    if (c === '[') {
      const [src, next] = bracket(p, i);
      out += src;
      i = next - 1;
      continue;
    }
    if (c === '*') { out += start ? '\\*' : '*'; continue; }
    if (c === '.') { out += '.'; continue; }
    if (c === '^') {
      if (extended || start) { out += '^'; atStart = true; } else out += '\\^';
      continue;
    }
    if (c === '$') {
      const end = i === p.length - 1 || (!extended && p.startsWith('\\)', i + 1)) || (!extended && p.startsWith('\\|', i + 1));
      out += extended || end ? '$' : '\\$';
      continue;
    }
    if (extended) {
      if (c === '{') {
        out += /^\{[0-9]+(,[0-9]*)?\}/.test(p.slice(i)) ? '{' : '\\{';
        continue;
      }
      if (c === '(' || c === '|') atStart = true;
      if ('()|+?}'.includes(c)) { out += c; continue; }
    }
    out += escapeJs(c);
  }
  return out;
}

/** A RegExp for grep's options: -E, -F, -i, -w, -x and several patterns (any may match). */
export function grepRegex(patterns: readonly string[], o: { extended: boolean; fixed: boolean; icase: boolean; word: boolean; line: boolean }): RegExp {
  const alts = patterns.map((p) => (o.fixed ? p.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&') : posixToJs(p, o.extended)));
  let src = alts.length === 1 ? alts[0] : alts.map((a) => `(?:${a})`).join('|');
  if (o.word) src = `(?<![A-Za-z0-9_])(?:${src})(?![A-Za-z0-9_])`;
  if (o.line) src = `^(?:${src})$`;
  try {
    return new RegExp(src, o.icase ? 'gi' : 'g');
  } catch (e) {
    throw new RegexError(e instanceof Error ? e.message.replace(/^Invalid regular expression: /, '') : String(e));
  }
}
