/**
 * The shell's tokens (XCU 2.3 Token Recognition): operators, newlines, IO numbers and
 * words, each word kept as its parts (tools/sh/ast.ts). Quoting (XCU 2.2) and the
 * expansions' syntax are read here; $(...) and `...` need the grammar, which the
 * parser lends through a Grammar callback, so neither module imports the other.
 *
 * Here-documents (XCU 2.7.4): the parser hands each `<<WORD` to hereDoc(); at the next
 * newline token the lexer reads their lines, in order, up to each delimiter line. With
 * a quoted delimiter the text is literal; otherwise it is read like the inside of
 * "..." except that `"` is an ordinary character, so $, `...` and \$ \` \\ \newline
 * work. `<<-` strips leading tabs from every line, the delimiter's too. A here-document
 * that the input ends inside is a syntax error (one that more input can complete, so
 * the prompt asks for the next line); dash instead takes the text up to the end.
 */
import type { List, ParamOp, Word, WordPart } from './ast.js';

export type Token =
  | { t: 'word'; word: Word; line: number }
  | { t: 'io'; fd: number; line: number }
  | { t: 'op'; op: string; line: number }
  | { t: 'nl'; line: number }
  | { t: 'eof'; line: number };

/** A syntax error: its line, and whether more input could complete the text. */
export class Failure extends Error {
  constructor(message: string, readonly line: number, readonly incomplete: boolean) { super(message); }
}

/** A here-document the lexer is to read after the current line. */
export interface HereDoc {
  /** Filled in with the text, as a word to expand (or one quoted literal). */
  target: Word;
  delimiter: string;
  /** `<<-`: leading tabs removed. */
  stripTabs: boolean;
  /** The delimiter was quoted: no expansion. */
  quoted: boolean;
  line: number;
}

/** What the lexer needs from the grammar. */
export interface Grammar {
  /** Parse the commands of $( at the lexer's position, through the closing `)`. */
  substitution(lexer: Lexer): List;
  /** Parse a whole text (the body of `...`), throwing Failure. */
  script(text: string, line: number): List;
  /** A lexer with this grammar for other text (the inside of $((...))). */
  lexer(text: string, line: number): Lexer;
}

const OPERATORS = ['&&', '||', ';;', '>>', '>|', '<&', '>&', '<<-', '<<', '<>', '|', '&', ';', '(', ')', '<', '>'];
/** readWord's `until` for "the rest of the text" (the inside of $((...))). */
export const TO_END = '\u0000';
const SPECIAL_PARAMS = '?$#!@*-0123456789';

export class Lexer {
  pos = 0;
  line: number;
  /** Here-documents whose text starts after the next newline token. */
  private readonly docs: HereDoc[] = [];

  constructor(private readonly src: string, firstLine: number, private readonly grammar: Grammar) {
    this.line = firstLine;
  }

  private fail(message: string, tok: { line: number }, incomplete = false): never {
    throw new Failure(message, tok.line, incomplete);
  }

  /** The next token from this.pos. */
  lex(): Token {
    const s = this.src;
    for (;;) {
      const c = s[this.pos];
      if (c === ' ' || c === '\t' || c === '\r') { this.pos++; continue; }
      if (c === '\\' && s[this.pos + 1] === '\n') { this.pos += 2; this.line++; continue; }
      if (c === '#') { while (this.pos < s.length && s[this.pos] !== '\n') this.pos++; continue; }
      break;
    }
    const line = this.line;
    if (this.pos >= s.length) {
      const doc = this.docs[0];
      if (doc) this.fail(`unterminated here-document (expecting '${doc.delimiter}')`, doc, true);
      return { t: 'eof', line };
    }
    if (s[this.pos] === '\n') {
      this.pos++;
      this.line++;
      while (this.docs.length) this.readHereDoc(this.docs.shift()!);
      return { t: 'nl', line };
    }
    for (const op of OPERATORS) {
      if (s.startsWith(op, this.pos)) { this.pos += op.length; return { t: 'op', op, line }; }
    }
    const start = this.pos;
    const word = this.readWord(null);
    const raw = s.slice(start, this.pos);
    if (/^[0-9]+$/.test(raw) && (s[this.pos] === '<' || s[this.pos] === '>')) return { t: 'io', fd: Number(raw), line };
    return { t: 'word', word, line };
  }

  /** Read `doc`'s text after the current line (see the header). */
  hereDoc(doc: HereDoc): void {
    this.docs.push(doc);
  }

  private readHereDoc(doc: HereDoc): void {
    const s = this.src;
    const firstLine = this.line;
    let text = '';
    for (;;) {
      if (this.pos >= s.length) this.fail(`unterminated here-document (expecting '${doc.delimiter}')`, doc, true);
      const nl = s.indexOf('\n', this.pos);
      const end = nl < 0 ? s.length : nl;
      let line = s.slice(this.pos, end);
      this.pos = nl < 0 ? end : end + 1;
      this.line++;
      if (doc.stripTabs) line = line.replace(/^\t+/, '');
      if (line === doc.delimiter) break;
      text += line + '\n';
    }
    if (doc.quoted) doc.target.parts = text === '' ? [] : [{ kind: 'lit', text, quoted: true }];
    else doc.target.parts = this.grammar.lexer(text, firstLine).readWord(TO_END, true, true).parts;
  }

  /**
   * Read one word from this.pos. `until` is the closing character of an enclosing
   * ${...} (then blanks and operators are part of the word), or null for a plain word.
   * `hereDoc`: the text of an unquoted here-document (inDouble, and `"` is literal).
   */
  readWord(until: string | null, inDouble = false, hereDoc = false): Word {
    const s = this.src;
    const parts: WordPart[] = [];
    const lit = (text: string, quoted: boolean): void => {
      const last = parts[parts.length - 1];
      if (last && last.kind === 'lit' && last.quoted === quoted) last.text += text;
      else parts.push({ kind: 'lit', text, quoted });
    };
    for (;;) {
      if (this.pos >= s.length) {
        if (until !== null && until !== TO_END) this.fail(`unterminated '\${'`, { line: this.line }, true);
        break;
      }
      const c = s[this.pos];
      if (until !== null) {
        if (c === until) break;
      } else if (' \t\r\n;&|()<>'.includes(c)) {
        break;
      }
      if (c === '\\') {
        const d = s[this.pos + 1];
        if (d === undefined) this.fail('backslash at end of input', { line: this.line }, true);
        this.pos += 2;
        if (d === '\n') { this.line++; continue; }
        if (inDouble && !(hereDoc ? '$`\\' : '$`"\\}').includes(d)) lit('\\' + d, true);
        else lit(d, true);
        continue;
      }
      if (c === "'" && !inDouble) {
        const close = s.indexOf("'", this.pos + 1);
        if (close < 0) this.fail("unterminated single quote (')", { line: this.line }, true);
        const body = s.slice(this.pos + 1, close);
        this.line += count(body, '\n');
        lit(body, true);
        this.pos = close + 1;
        if (body === '') parts.push({ kind: 'lit', text: '', quoted: true });
        continue;
      }
      if (c === '"' && !hereDoc) {
        this.readDouble(parts);
        continue;
      }
      if (c === '$') { parts.push(this.readDollar(inDouble)); continue; }
      if (c === '`') { parts.push(this.readBackquote(inDouble)); continue; }
      if (c === '\n') this.line++;
      lit(c, inDouble);
      this.pos++;
    }
    return { parts };
  }

  /** "..." at this.pos: quoted literal text and expansions. */
  private readDouble(parts: WordPart[]): void {
    const s = this.src;
    const startLine = this.line;
    this.pos++;
    let text = '';
    const flush = (force: boolean): void => {
      if (text !== '' || force) parts.push({ kind: 'lit', text, quoted: true });
      text = '';
    };
    let any = false;
    for (;;) {
      if (this.pos >= s.length) throw new Failure('unterminated double quote (")', startLine, true);
      const c = s[this.pos];
      if (c === '"') { this.pos++; break; }
      if (c === '\\') {
        const d = s[this.pos + 1];
        if (d === undefined) throw new Failure('unterminated double quote (")', startLine, true);
        this.pos += 2;
        if (d === '\n') { this.line++; continue; }
        text += '$`"\\'.includes(d) ? d : '\\' + d;
        continue;
      }
      if (c === '$' || c === '`') {
        flush(false);
        parts.push(c === '$' ? this.readDollar(true) : this.readBackquote(true));
        any = true;
        continue;
      }
      if (c === '\n') this.line++;
      text += c;
      this.pos++;
    }
    flush(!any && text === ''); // "" is an empty word, not nothing
  }

  /** $... at this.pos. */
  private readDollar(quoted: boolean): WordPart {
    const s = this.src;
    const c = s[this.pos + 1];
    if (c === '(') {
      if (s[this.pos + 2] === '(') return this.readArith(quoted);
      this.pos += 2;
      const body = this.grammar.substitution(this);
      return { kind: 'subst', body, quoted };
    }
    if (c === '{') return this.readBraced(quoted);
    if (c !== undefined && SPECIAL_PARAMS.includes(c)) {
      this.pos += 2;
      return { kind: 'param', name: c, op: null, arg: null, quoted };
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(this.pos + 1, this.pos + 257));
    if (m) {
      this.pos += 1 + m[0].length;
      return { kind: 'param', name: m[0], op: null, arg: null, quoted };
    }
    this.pos++;
    return { kind: 'lit', text: '$', quoted };
  }

  /** ${...} at this.pos. */
  private readBraced(quoted: boolean): WordPart {
    const s = this.src;
    const startLine = this.line;
    this.pos += 2;
    let lengthOf = false;
    if (s[this.pos] === '#' && s[this.pos + 1] !== '}' && s[this.pos + 1] !== undefined) {
      lengthOf = true;
      this.pos++;
    }
    let name: string;
    const m = /^(?:[A-Za-z_][A-Za-z0-9_]*|[0-9]+|[?$#!@*-])/.exec(s.slice(this.pos, this.pos + 256));
    if (!m) {
      if (this.pos >= s.length) throw new Failure("unterminated '${'", startLine, true);
      throw new Failure('bad substitution', startLine, false);
    }
    name = m[0];
    this.pos += name.length;
    if (lengthOf) {
      if (this.pos >= s.length) throw new Failure("unterminated '${'", startLine, true);
      if (s[this.pos] !== '}') throw new Failure('bad substitution', startLine, false);
      this.pos++;
      return { kind: 'param', name, op: '#len', arg: null, quoted };
    }
    if (s[this.pos] === '}') {
      this.pos++;
      return { kind: 'param', name, op: null, arg: null, quoted };
    }
    if (this.pos >= s.length) throw new Failure("unterminated '${'", startLine, true);
    const om = /^(?::[-=+?]|%%|##|[-=+?%#])/.exec(s.slice(this.pos, this.pos + 2));
    if (!om) throw new Failure('bad substitution', startLine, false);
    this.pos += om[0].length;
    const arg = this.readWord('}', quoted);
    if (s[this.pos] !== '}') throw new Failure("unterminated '${'", startLine, true);
    this.pos++;
    return { kind: 'param', name, op: om[0] as ParamOp, arg, quoted };
  }

  /** $((...)) at this.pos: the text up to the matching )) is an expandable word. */
  private readArith(quoted: boolean): WordPart {
    const s = this.src;
    const startLine = this.line;
    let depth = 0;
    let i = this.pos + 3;
    for (; i < s.length; i++) {
      if (s[i] === '(') depth++;
      else if (s[i] === ')') {
        if (depth === 0) break;
        depth--;
      }
    }
    if (i >= s.length || s[i + 1] !== ')') throw new Failure("unterminated '$((' (expecting '))')", startLine, i >= s.length - 1);
    const expr = this.grammar.lexer(s.slice(this.pos + 3, i), startLine).readWord(TO_END, true);
    this.line += count(s.slice(this.pos, i), '\n');
    this.pos = i + 2;
    return { kind: 'arith', expr, quoted };
  }

  /** `...` at this.pos: the text, unescaped, is parsed as a list. */
  private readBackquote(inDouble: boolean): WordPart {
    const s = this.src;
    const startLine = this.line;
    let body = '';
    let i = this.pos + 1;
    for (;; i++) {
      if (i >= s.length) throw new Failure('unterminated backquote (`)', startLine, true);
      const c = s[i];
      if (c === '`') break;
      if (c === '\\' && i + 1 < s.length && ('$`\\'.includes(s[i + 1]) || (inDouble && s[i + 1] === '"'))) {
        body += s[++i];
        continue;
      }
      body += c;
    }
    const list = this.grammar.script(body, startLine);
    this.line += count(s.slice(this.pos, i), '\n');
    this.pos = i + 1;
    return { kind: 'subst', body: list, quoted: inDouble };
  }
}

function count(s: string, ch: string): number {
  let n = 0;
  for (const c of s) if (c === ch) n++;
  return n;
}
