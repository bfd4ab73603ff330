/**
 * The shell's parser: script text to the syntax tree of tools/sh/ast.ts, following
 * POSIX sh's grammar (XCU 2.10) over the tokens of tools/sh/lex.ts (token recognition,
 * XCU 2.3, and quoting, 2.2).
 *
 * - Blanks separate words; `;` and newline end a command; `#` at the start of a word
 *   starts a comment. Operators: | || && ; ( ) < > >> >| <& >& and the IO number in
 *   `2>&1`.
 * - '...' is literal; "..." keeps $ expansions, `...` and the escapes \$ \` \" \\ and
 *   backslash-newline; outside quotes a backslash quotes the next character.
 * - $name ${name} ${name:-w} ${name-w} ${name:=w} ${name:+w} ${name:?w} ${#name}
 *   ${name%w} ${name%%w} ${name#w} ${name##w}; $? $$ $# $0..$9 $@ $* $! $-.
 * - $(list), `list`, $((expression)).
 * - if/then/elif/else/fi, for NAME [in WORDS]; do/done, while/until, case, { list; },
 *   ( list ), `!` before a pipeline; reserved words only where a command starts; function
 *   definitions `NAME() compound-command` (tools/sh/parse_compound.ts).
 * - here-documents `<<WORD` and `<<-WORD` (XCU 2.7.4; their lines are read by the lexer).
 * Not supported, with a clear message: `&` (background jobs), `<>`, fds above 2.
 *
 * Never throws: errors carry the line of the offending token and whether more input
 * could complete the text (an open quote, `if` without `fi`, a trailing `|`), which the
 * prompt uses to ask for a continuation line.
 */
import type { AndOr, Command, List, Pipeline, Redirect, Word, WordPart } from './ast.js';
import { Failure, Lexer, type Grammar, type Token } from './lex.js';
import { isStackOverflow } from './control.js';
import {
  describe, parseCase, parseFor, parseFunction, parseIf, parseWhile, reservedOf, type ParserCore,
} from './parse_compound.js';

export interface ParseError { ok: false; error: string; line: number; incomplete: boolean }
export type ParseResult = { ok: true; value: List } | ParseError;

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
    // Thousands of nested ( ), $( ) or `if`s: the host's stack ends before the text.
    if (isStackOverflow(e)) return { ok: false, error: 'commands nested too deeply', line: firstLine, incomplete: false };
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

class Parser implements Grammar, ParserCore {
  private readonly lexer_: Lexer;
  private ahead: Token | null = null;

  constructor(src: string, firstLine: number) { this.lexer_ = new Lexer(src, firstLine, this); }

  // --- what the lexer borrows -----------------------------------------------------

  substitution(lexer: Lexer): List {
    const startLine = lexer.line;
    this.ahead = null;
    const body = this.parseList(new Set());
    const close = this.peek();
    if (close.t === 'eof') throw new Failure("unterminated '$(' (expecting ')')", startLine, true);
    if (close.t !== 'op' || close.op !== ')') this.unexpected(close, "')'");
    this.ahead = null; // the lexer is already just after ')'
    return body;
  }

  script(text: string, line: number): List {
    const r = parseShell(text, line);
    if (!r.ok) throw new Failure(r.error, r.line, false);
    return r.value;
  }

  lexer(text: string, line: number): Lexer {
    return new Parser(text, line).lexer_;
  }

  // --- grammar --------------------------------------------------------------------

  /** Commands up to EOF, `)`, `;;`, or a reserved word in `stop` at a command's start. */
  parseList(stop: ReadonlySet<string>): List {
    const list: List = [];
    for (;;) {
      this.skipNewlines();
      const tok = this.peek();
      if (tok.t === 'eof' || (tok.t === 'op' && (tok.op === ')' || tok.op === ';;'))) break;
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

  parseCommand(): Command {
    const tok = this.peek();
    const r = reservedOf(tok);
    let cmd: Command;
    if (r === 'if') cmd = parseIf(this);
    else if (r === 'for') cmd = parseFor(this);
    else if (r === 'while' || r === 'until') cmd = parseWhile(this, r === 'until');
    else if (r === 'case') cmd = parseCase(this);
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
      const first = cmd.words.length + cmd.assigns.length + cmd.redirects.length === 0;
      const after = first ? this.peek() : null;
      if (after?.t === 'op' && after.op === '(') return parseFunction(this, tok);
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
    if (tok.op === '<>') this.fail("'<>' is not supported", tok);
    if (tok.op === '<<' || tok.op === '<<-') return this.parseHereDoc(fd ?? 0, tok);
    const target = this.next();
    if (target.t !== 'word') this.unexpected(target);
    const op = tok.op === '>|' ? '>' : (tok.op as Redirect['op']);
    if (fd === null) fd = op === '<' || op === '<&' ? 0 : 1;
    if (fd > 2) this.fail(`file descriptor ${fd} is not supported (0, 1 and 2 are)`, tok);
    return { fd, op, target: target.word };
  }

  /**
   * `<<WORD` / `<<-WORD` (XCU 2.7.4): the delimiter is WORD after quote removal, and any
   * quoting in it means the text is not expanded. The text is read after this line.
   */
  private parseHereDoc(fd: number, tok: Token & { t: 'op' }): Redirect {
    const target = this.next();
    if (target.t !== 'word') this.unexpected(target, 'a here-document delimiter');
    if (fd > 2) this.fail(`file descriptor ${fd} is not supported (0, 1 and 2 are)`, tok);
    let delimiter = '';
    let quoted = false;
    for (const part of target.word.parts) {
      if (part.kind !== 'lit') this.fail('a here-document delimiter must be a plain word, without $ or `', target);
      delimiter += part.text;
      quoted ||= part.quoted;
    }
    const text: Word = { parts: [] };
    this.lexer_.hereDoc({ target: text, delimiter, stripTabs: tok.op === '<<-', quoted, line: tok.line });
    return { fd, op: '<<', target: text };
  }

  /** A compound list that must not be empty (sh requires a command after then/do/...). */
  parseBody(stop: ReadonlySet<string>, after: string): List {
    const body = this.parseList(stop);
    if (body.length === 0) {
      const tok = this.peek();
      if (tok.t === 'eof') this.fail(`unexpected end of file (expecting a command after '${after}')`, tok, true);
      this.unexpected(tok);
    }
    return body;
  }

  expectReserved(word: string, opener: string, start?: Token): void {
    const tok = this.peek();
    if (reservedOf(tok) === word) { this.next(); return; }
    if (tok.t === 'eof') {
      this.fail(`unexpected end of file (expecting '${word}' for '${opener}'${start ? ` on line ${start.line}` : ''})`, tok, true);
    }
    this.unexpected(tok, `'${word}'`);
  }

  skipNewlines(): void {
    while (this.peek().t === 'nl') this.next();
  }

  unexpected(tok: Token, expecting?: string): never {
    const what = tok.t === 'eof' ? 'unexpected end of file' : `syntax error near unexpected token ${describe(tok)}`;
    this.fail(expecting ? `${what} (expecting ${expecting})` : what, tok, tok.t === 'eof');
  }

  fail(message: string, tok: { line: number }, incomplete = false): never {
    throw new Failure(message, tok.line, incomplete);
  }

  // --- tokens ---------------------------------------------------------------------

  peek(): Token {
    if (this.ahead === null) this.ahead = this.lexer_.lex();
    return this.ahead;
  }

  next(): Token {
    const tok = this.peek();
    this.ahead = null;
    return tok;
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
