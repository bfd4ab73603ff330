/**
 * The compound commands of the shell's grammar (XCU 2.9.4, 2.10.2) and function
 * definitions (XCU 2.9.5), parsed over the token stream that tools/sh/parse.ts's
 * Parser lends through ParserCore (so this module does not import that one).
 *
 * - if/then/elif/else/fi, for NAME [in WORDS]; do/done, while/until;
 * - XCU 2.9.4.3 case: `case WORD in [(]PAT[|PAT]...) LIST ;; ... esac`, newlines
 *   anywhere a linebreak may be, `;;` optional before `esac`, an empty LIST allowed;
 * - XCU 2.9.5 Function Definition Command: `NAME ( ) LINEBREAK compound-command
 *   [redirections]`; NAME must be a name (XBD 3.216), the body a compound command.
 */
import type { Command, List, Word } from './ast.js';
import type { Token } from './lex.js';

export interface ParserCore {
  peek(): Token;
  next(): Token;
  /** Commands up to EOF, `)`, `;;`, or a reserved word in `stop` at a command's start. */
  parseList(stop: ReadonlySet<string>): List;
  /** A compound list that must not be empty. */
  parseBody(stop: ReadonlySet<string>, after: string): List;
  parseCommand(): Command;
  expectReserved(word: string, opener: string, start?: Token): void;
  skipNewlines(): void;
  unexpected(tok: Token, expecting?: string): never;
  fail(message: string, tok: { line: number }, incomplete?: boolean): never;
}

/** XCU 2.4 reserved words (also what `type` calls a keyword: lookup.ts). */
export const RESERVED: ReadonlySet<string> = new Set(['if', 'then', 'elif', 'else', 'fi', 'for', 'in', 'do', 'done',
  'while', 'until', 'case', 'esac', '{', '}', '!']);
export const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The reserved word a token stands for, if it is one (unquoted, alone). */
export function reservedOf(tok: Token): string | null {
  const text = plainText(tok);
  return text !== null && RESERVED.has(text) ? text : null;
}

/** The text of a word token that is one unquoted literal, else null. */
export function plainText(tok: Token): string | null {
  if (tok.t !== 'word' || tok.word.parts.length !== 1) return null;
  const p = tok.word.parts[0];
  return p.kind === 'lit' && !p.quoted ? p.text : null;
}

export function describe(tok: Token): string {
  switch (tok.t) {
    case 'eof': return 'end of file';
    case 'nl': return 'newline';
    case 'op': return `'${tok.op}'`;
    case 'io': return `'${tok.fd}'`;
    default: return `'${tok.word.parts.map((p) => (p.kind === 'lit' ? p.text : '$...')).join('')}'`;
  }
}

const isOp = (tok: Token, op: string): boolean => tok.t === 'op' && tok.op === op;

export function parseIf(p: ParserCore): Command {
  const start = p.next(); // if
  const clauses: { cond: List; body: List }[] = [];
  let otherwise: List | null = null;
  for (;;) {
    const cond = p.parseBody(new Set(['then']), 'if');
    p.expectReserved('then', 'if');
    const body = p.parseBody(new Set(['elif', 'else', 'fi']), 'then');
    clauses.push({ cond, body });
    const r = reservedOf(p.peek());
    if (r === 'elif') { p.next(); continue; }
    if (r === 'else') {
      p.next();
      otherwise = p.parseBody(new Set(['fi']), 'else');
    }
    p.expectReserved('fi', 'if', start);
    break;
  }
  return { kind: 'if', clauses, otherwise, redirects: [] };
}

export function parseFor(p: ParserCore): Command {
  const start = p.next(); // for
  const nameTok = p.next();
  const name = plainText(nameTok) ?? '';
  if (!NAME_RE.test(name)) {
    if (nameTok.t === 'eof') p.fail(`'for' needs a variable name`, nameTok, true);
    p.fail(`bad for loop variable ${describe(nameTok)}`, nameTok);
  }
  let items: Word[] | null = null;
  p.skipNewlines();
  if (reservedOf(p.peek()) === 'in') {
    p.next();
    items = [];
    for (;;) {
      const tok = p.peek();
      if (tok.t !== 'word') break;
      p.next();
      items.push(tok.word);
    }
    const sep = p.peek();
    if (sep.t === 'nl' || isOp(sep, ';')) p.next();
    else p.unexpected(sep, "';' or newline");
  } else if (isOp(p.peek(), ';')) {
    p.next();
  }
  p.skipNewlines();
  p.expectReserved('do', 'for', start);
  const body = p.parseBody(new Set(['done']), 'do');
  p.expectReserved('done', 'for', start);
  return { kind: 'for', name, items, body, redirects: [] };
}

export function parseWhile(p: ParserCore, until: boolean): Command {
  const start = p.next();
  const kw = until ? 'until' : 'while';
  const cond = p.parseBody(new Set(['do']), kw);
  p.expectReserved('do', kw, start);
  const body = p.parseBody(new Set(['done']), 'do');
  p.expectReserved('done', kw, start);
  return { kind: 'while', until, cond, body, redirects: [] };
}

/** XCU 2.9.4.3 case (see the header). */
export function parseCase(p: ParserCore): Command {
  const start = p.next(); // case
  const wordTok = p.next();
  if (wordTok.t !== 'word') {
    if (wordTok.t === 'eof') p.fail("'case' needs a word", wordTok, true);
    p.unexpected(wordTok, 'a word');
  }
  p.skipNewlines();
  p.expectReserved('in', 'case', start);
  const items: { patterns: Word[]; body: List }[] = [];
  for (;;) {
    p.skipNewlines();
    let tok = p.peek();
    if (reservedOf(tok) === 'esac') { p.next(); break; }
    if (tok.t === 'eof') p.expectReserved('esac', 'case', start);
    if (isOp(tok, '(')) { p.next(); tok = p.peek(); }
    const patterns: Word[] = [];
    for (;;) {
      if (tok.t !== 'word') p.unexpected(tok, 'a pattern');
      p.next();
      patterns.push(tok.word);
      const sep = p.peek();
      if (isOp(sep, ')')) { p.next(); break; }
      if (!isOp(sep, '|')) p.unexpected(sep, "')'");
      p.next();
      tok = p.peek();
    }
    const body = p.parseList(new Set(['esac']));
    items.push({ patterns, body });
    const end = p.peek();
    if (isOp(end, ';;')) { p.next(); continue; }
    p.expectReserved('esac', 'case', start);
    break;
  }
  return { kind: 'case', word: wordTok.word, items, redirects: [] };
}

/** The rest of `NAME()` after the name, whose `(` is the next token (XCU 2.9.5). */
export function parseFunction(p: ParserCore, nameTok: Token): Command {
  const name = plainText(nameTok) ?? '';
  p.next(); // (
  const close = p.next();
  if (!isOp(close, ')')) p.unexpected(close, "')'");
  if (!NAME_RE.test(name) || reservedOf(nameTok) !== null) p.fail(`bad function name ${describe(nameTok)}`, nameTok);
  p.skipNewlines();
  const tok = p.peek();
  const r = reservedOf(tok);
  const compound = r === 'if' || r === 'for' || r === 'while' || r === 'until' || r === 'case' || r === '{' || isOp(tok, '(');
  if (!compound) {
    if (tok.t === 'eof') p.fail('unexpected end of file (expecting a function body)', tok, true);
    p.unexpected(tok, 'a compound command');
  }
  return { kind: 'function', name, body: p.parseCommand(), redirects: [] };
}
