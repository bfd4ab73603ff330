/**
 * The shell's parser: script text to the syntax tree of tools/sh/ast.ts, following
 * POSIX sh's token recognition (XCU 2.3), quoting (2.2) and grammar (2.10).
 *
 * - Blanks separate words; `;` and newline end a command; `#` at the start of a word
 *   starts a comment. Operators: | || && ; ( ) < > >> >| <& >& and the IO number in
 *   `2>&1`.
 * - '...' is literal; "..." keeps $ expansions, `...` and the escapes \$ \` \" \\ and
 *   backslash-newline; outside quotes a backslash quotes the next character.
 * - $name ${name} ${name:-w} ${name-w} ${name:=w} ${name:+w} ${name:?w} ${#name}
 *   ${name%w} ${name%%w} ${name#w} ${name##w}; $? $$ $# $0..$9 $@ $* $! $-.
 * - $(list), `list`, $((expression)).
 * - if/then/elif/else/fi, for NAME [in WORDS]; do/done, while/until, { list; }, ( list ),
 *   `!` before a pipeline; reserved words only where a command starts.
 * Not supported, with a clear message: `&` (background jobs), here-documents, `case`.
 *
 * Never throws: errors carry the line of the offending token and whether more input
 * could complete the text (an open quote, `if` without `fi`, a trailing `|`), which the
 * prompt uses to ask for a continuation line.
 */
import type { AndOr, Command, List, Pipeline, Redirect, Word, WordPart, ParamOp } from './ast.js';

export interface ParseError { ok: false; error: string; line: number; incomplete: boolean }
export type ParseResult = { ok: true; value: List } | ParseError;

type Token =
  | { t: 'word'; word: Word; line: number }
  | { t: 'io'; fd: number; line: number }
  | { t: 'op'; op: string; line: number }
  | { t: 'nl'; line: number }
  | { t: 'eof'; line: number };

const RESERVED = new Set(['if', 'then', 'elif', 'else', 'fi', 'for', 'in', 'do', 'done',
  'while', 'until', 'case', 'esac', '{', '}', '!']);
const OPERATORS = ['&&', '||', ';;', '>>', '>|', '<&', '>&', '<<-', '<<', '<>', '|', '&', ';', '(', ')', '<', '>'];
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** readWord's `until` for "the rest of the text" (the inside of $((...))). */
const TO_END = '\u0000';
const SPECIAL_PARAMS = '?$#!@*-0123456789';

class Failure extends Error {
  constructor(message: string, readonly line: number, readonly incomplete: boolean) { super(message); }
}

/** Parse a whole script. */
export function parseShell(text: string, firstLine = 1): ParseResult {
  try {
    const p = new Parser(text, firstLine);
    const list = p.parseList(new Set());
    const tok = p.peek();
    if (tok.t !== 'eof') p.unexpected(tok);
    return { ok: true, value: list };
  } catch (e) {
    if (e instanceof Failure) return { ok: false, error: e.message, line: e.line, incomplete: e.incomplete };
    throw e;
  }
}

/**
 * Split text into literal words as the shell would (quotes and escapes, no
 * expansions): for option lines such as a golden script's `# args:`.
 */
export function splitWords(text: string): { ok: true; value: string[] } | ParseError {
  const r = parseShell(text);
  if (!r.ok) return r;
  const out: string[] = [];
  for (const ao of r.value) {
    for (const p of [ao.first, ...ao.rest.map((x) => x.pipeline)]) {
      for (const c of p.commands) {
        if (c.kind !== 'simple' || c.redirects.length || c.assigns.length || ao.rest.length || p.commands.length > 1) {
          return { ok: false, error: 'only plain words are allowed here', line: 1, incomplete: false };
        }
        for (const w of c.words) {
          if (!w.parts.every((x) => x.kind === 'lit')) {
            return { ok: false, error: 'expansions are not allowed here', line: 1, incomplete: false };
          }
          out.push(w.parts.map((x) => (x.kind === 'lit' ? x.text : '')).join(''));
        }
      }
    }
  }
  return { ok: true, value: out };
}

/** The reserved word a token stands for, if it is one (unquoted, alone). */
function reservedOf(tok: Token): string | null {
  if (tok.t !== 'word' || tok.word.parts.length !== 1) return null;
  const p = tok.word.parts[0];
  return p.kind === 'lit' && !p.quoted && RESERVED.has(p.text) ? p.text : null;
}

function describe(tok: Token): string {
  switch (tok.t) {
    case 'eof': return 'end of file';
    case 'nl': return 'newline';
    case 'op': return `'${tok.op}'`;
    case 'io': return `'${tok.fd}'`;
    default: return `'${tok.word.parts.map((p) => (p.kind === 'lit' ? p.text : '$...')).join('')}'`;
  }
}

class Parser {
  private pos = 0;
  private line: number;
  private ahead: Token | null = null;

  constructor(private readonly src: string, firstLine: number) { this.line = firstLine; }

  // --- grammar --------------------------------------------------------------------

  /** Commands up to EOF, `)`, or a reserved word in `stop` at a command's start. */
  parseList(stop: ReadonlySet<string>): List {
    const list: List = [];
    for (;;) {
      this.skipNewlines();
      const tok = this.peek();
      if (tok.t === 'eof' || (tok.t === 'op' && tok.op === ')')) break;
      const r = reservedOf(tok);
      if (r !== null && stop.has(r)) break;
      list.push(this.parseAndOr());
      const sep = this.peek();
      if (sep.t === 'nl' || (sep.t === 'op' && sep.op === ';')) { this.next(); continue; }
      if (sep.t === 'op' && sep.op === '&') this.fail('background jobs (&) are not supported', sep);
      break;
    }
    return list;
  }

  private parseAndOr(): AndOr {
    const first = this.parsePipeline();
    const rest: AndOr['rest'] = [];
    for (;;) {
      const tok = this.peek();
      if (tok.t !== 'op' || (tok.op !== '&&' && tok.op !== '||')) break;
      this.next();
      this.skipNewlines();
      rest.push({ op: tok.op, pipeline: this.parsePipeline() });
    }
    return { first, rest };
  }

  private parsePipeline(): Pipeline {
    let bang = false;
    if (reservedOf(this.peek()) === '!') { this.next(); bang = true; }
    const commands = [this.parseCommand()];
    for (;;) {
      const tok = this.peek();
      if (tok.t !== 'op' || tok.op !== '|') break;
      this.next();
      this.skipNewlines();
      commands.push(this.parseCommand());
    }
    return { bang, commands };
  }

  private parseCommand(): Command {
    const tok = this.peek();
    const r = reservedOf(tok);
    let cmd: Command;
    if (r === 'if') cmd = this.parseIf();
    else if (r === 'for') cmd = this.parseFor();
    else if (r === 'while' || r === 'until') cmd = this.parseWhile(r === 'until');
    else if (r === '{') {
      this.next();
      const body = this.parseBody(new Set(['}']), '{');
      this.expectReserved('}', '{');
      cmd = { kind: 'group', subshell: false, body, redirects: [] };
    } else if (tok.t === 'op' && tok.op === '(') {
      this.next();
      const body = this.parseList(new Set());
      if (body.length === 0) this.unexpected(this.peek());
      const close = this.peek();
      if (close.t !== 'op' || close.op !== ')') this.unexpected(close, "')'");
      this.next();
      cmd = { kind: 'group', subshell: true, body, redirects: [] };
    } else if (r === 'case') {
      this.fail("'case' is not supported (use if/elif)", tok);
    } else if (r !== null && r !== '!') {
      this.unexpected(tok);
    } else {
      return this.parseSimple();
    }
    // Redirections after a compound command apply to all of it.
    while (this.atRedirect()) cmd.redirects.push(this.parseRedirect());
    return cmd;
  }

  private parseSimple(): Command {
    const line = this.peek().line;
    const cmd: Command = { kind: 'simple', assigns: [], words: [], redirects: [], line };
    for (;;) {
      if (this.atRedirect()) { cmd.redirects.push(this.parseRedirect()); continue; }
      const tok = this.peek();
      if (tok.t !== 'word') break;
      this.next();
      const a = cmd.words.length === 0 ? assignmentOf(tok.word) : null;
      if (a) cmd.assigns.push(a); else cmd.words.push(tok.word);
    }
    if (cmd.words.length + cmd.assigns.length + cmd.redirects.length === 0) this.unexpected(this.peek());
    return cmd;
  }

  private atRedirect(): boolean {
    const tok = this.peek();
    return tok.t === 'io' || (tok.t === 'op' && /^(<|>|>>|>\||<&|>&|<<|<<-|<>)$/.test(tok.op));
  }

  private parseRedirect(): Redirect {
    let fd: number | null = null;
    let tok = this.next();
    if (tok.t === 'io') { fd = tok.fd; tok = this.next(); }
    if (tok.t !== 'op') return this.unexpected(tok);
    if (tok.op === '<<' || tok.op === '<<-') this.fail('here-documents are not supported', tok);
    if (tok.op === '<>') this.fail("'<>' is not supported", tok);
    const target = this.next();
    if (target.t !== 'word') this.unexpected(target);
    const op = tok.op === '>|' ? '>' : (tok.op as Redirect['op']);
    if (fd === null) fd = op === '<' || op === '<&' ? 0 : 1;
    if (fd > 2) this.fail(`file descriptor ${fd} is not supported (0, 1 and 2 are)`, tok);
    return { fd, op, target: target.word };
  }

  private parseIf(): Command {
    const start = this.next(); // if
    const clauses: { cond: List; body: List }[] = [];
    let otherwise: List | null = null;
    for (;;) {
      const cond = this.parseBody(new Set(['then']), 'if');
      this.expectReserved('then', 'if');
      const body = this.parseBody(new Set(['elif', 'else', 'fi']), 'then');
      clauses.push({ cond, body });
      const tok = this.peek();
      const r = reservedOf(tok);
      if (r === 'elif') { this.next(); continue; }
      if (r === 'else') {
        this.next();
        otherwise = this.parseBody(new Set(['fi']), 'else');
      }
      this.expectReserved('fi', 'if', start);
      break;
    }
    return { kind: 'if', clauses, otherwise, redirects: [] };
  }

  private parseFor(): Command {
    const start = this.next(); // for
    const nameTok = this.next();
    const name = nameTok.t === 'word' && nameTok.word.parts.length === 1 && nameTok.word.parts[0].kind === 'lit' &&
      !nameTok.word.parts[0].quoted ? nameTok.word.parts[0].text : '';
    if (!NAME_RE.test(name)) {
      if (nameTok.t === 'eof') this.fail(`'for' needs a variable name`, nameTok, true);
      this.fail(`bad for loop variable ${describe(nameTok)}`, nameTok);
    }
    let items: Word[] | null = null;
    this.skipNewlines();
    if (reservedOf(this.peek()) === 'in') {
      this.next();
      items = [];
      for (;;) {
        const tok = this.peek();
        if (tok.t !== 'word') break;
        this.next();
        items.push(tok.word);
      }
      const sep = this.peek();
      if (sep.t === 'nl' || (sep.t === 'op' && sep.op === ';')) this.next();
      else this.unexpected(sep, "';' or newline");
    } else if (this.peek().t === 'op' && (this.peek() as { op: string }).op === ';') {
      this.next();
    }
    this.skipNewlines();
    this.expectReserved('do', 'for', start);
    const body = this.parseBody(new Set(['done']), 'do');
    this.expectReserved('done', 'for', start);
    return { kind: 'for', name, items, body, redirects: [] };
  }

  private parseWhile(until: boolean): Command {
    const start = this.next();
    const kw = until ? 'until' : 'while';
    const cond = this.parseBody(new Set(['do']), kw);
    this.expectReserved('do', kw, start);
    const body = this.parseBody(new Set(['done']), 'do');
    this.expectReserved('done', kw, start);
    return { kind: 'while', until, cond, body, redirects: [] };
  }

  /** A compound list that must not be empty (sh requires a command after then/do/...). */
  private parseBody(stop: ReadonlySet<string>, after: string): List {
    const body = this.parseList(stop);
    if (body.length === 0) {
      const tok = this.peek();
      if (tok.t === 'eof') this.fail(`unexpected end of file (expecting a command after '${after}')`, tok, true);
      this.unexpected(tok);
    }
    return body;
  }

  private expectReserved(word: string, opener: string, start?: Token): void {
    const tok = this.peek();
    if (reservedOf(tok) === word) { this.next(); return; }
    if (tok.t === 'eof') {
      this.fail(`unexpected end of file (expecting '${word}' for '${opener}'${start ? ` on line ${start.line}` : ''})`, tok, true);
    }
    this.unexpected(tok, `'${word}'`);
  }

  private skipNewlines(): void {
    while (this.peek().t === 'nl') this.next();
  }

  unexpected(tok: Token, expecting?: string): never {
    const what = tok.t === 'eof' ? 'unexpected end of file' : `syntax error near unexpected token ${describe(tok)}`;
    this.fail(expecting ? `${what} (expecting ${expecting})` : what, tok, tok.t === 'eof');
  }

  private fail(message: string, tok: { line: number }, incomplete = false): never {
    throw new Failure(message, tok.line, incomplete);
  }

  // --- tokens ---------------------------------------------------------------------

  peek(): Token {
    if (this.ahead === null) this.ahead = this.lex();
    return this.ahead;
  }

  private next(): Token {
    const tok = this.peek();
    this.ahead = null;
    return tok;
  }

  private lex(): Token {
    const s = this.src;
    for (;;) {
      const c = s[this.pos];
      if (c === ' ' || c === '\t' || c === '\r') { this.pos++; continue; }
      if (c === '\\' && s[this.pos + 1] === '\n') { this.pos += 2; this.line++; continue; }
      if (c === '#') { while (this.pos < s.length && s[this.pos] !== '\n') this.pos++; continue; }
      break;
    }
    const line = this.line;
    if (this.pos >= s.length) return { t: 'eof', line };
    if (s[this.pos] === '\n') { this.pos++; this.line++; return { t: 'nl', line }; }
    for (const op of OPERATORS) {
      if (s.startsWith(op, this.pos)) { this.pos += op.length; return { t: 'op', op, line }; }
    }
    const start = this.pos;
    const word = this.readWord(null);
    const raw = s.slice(start, this.pos);
    if (/^[0-9]+$/.test(raw) && (s[this.pos] === '<' || s[this.pos] === '>')) return { t: 'io', fd: Number(raw), line };
    return { t: 'word', word, line };
  }

  /**
   * Read one word from this.pos. `until` is the closing character of an enclosing
   * ${...} (then blanks and operators are part of the word), or null for a plain word.
   */
  private readWord(until: string | null, inDouble = false): Word {
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
        if (inDouble && !'$`"\\}'.includes(d)) lit('\\' + d, true);
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
      if (c === '"') {
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
      const startLine = this.line;
      this.pos += 2;
      this.ahead = null;
      const body = this.parseList(new Set());
      const close = this.peek();
      if (close.t === 'eof') throw new Failure("unterminated '$(' (expecting ')')", startLine, true);
      if (close.t !== 'op' || close.op !== ')') this.unexpected(close, "')'");
      this.ahead = null; // pos is already just after ')'
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
    const inner = new Parser(s.slice(this.pos + 3, i), startLine);
    const expr = inner.readWord(TO_END, true);
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
    const r = parseShell(body, startLine);
    if (!r.ok) throw new Failure(r.error, r.line, false);
    this.line += count(s.slice(this.pos, i), '\n');
    this.pos = i + 1;
    return { kind: 'subst', body: r.value, quoted: inDouble };
  }
}

/** NAME=value at the start of a simple command (XCU 2.10.2 rule 7). */
function assignmentOf(word: Word): { name: string; value: Word } | null {
  const first = word.parts[0];
  if (!first || first.kind !== 'lit' || first.quoted) return null;
  const m = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(first.text);
  if (!m) return null;
  const rest = first.text.slice(m[0].length);
  const parts: WordPart[] = rest === '' ? [] : [{ kind: 'lit', text: rest, quoted: false }];
  return { name: m[1], value: { parts: [...parts, ...word.parts.slice(1)] } };
}

function count(s: string, ch: string): number {
  let n = 0;
  for (const c of s) if (c === ch) n++;
  return n;
}
