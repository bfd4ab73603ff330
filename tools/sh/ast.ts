/**
 * The shell language's syntax tree, as POSIX sh defines it (XCU 2.9 Shell Commands,
 * 2.10 Shell Grammar): a list of and-or lists of pipelines of commands, each command a
 * simple command, a compound one (if, for, while/until, case, { }, ( )) or a function
 * definition (XCU 2.9.5).
 *
 * A word keeps its parts apart until expansion (XCU 2.6): literal text, parameters,
 * command substitutions and arithmetic, each marked quoted or not, because only
 * unquoted expansion results are split into fields.
 */

export type WordPart =
  /** Literal text; `quoted` when it came from quotes or a backslash (never split). */
  | { kind: 'lit'; text: string; quoted: boolean }
  /** $name, ${name}, ${name:-word}, ${#name}, $?, ... */
  | { kind: 'param'; name: string; op: ParamOp | null; arg: Word | null; quoted: boolean }
  /** $(list) or `list` */
  | { kind: 'subst'; body: List; quoted: boolean }
  /** $((expression)); the expression text is itself expanded before evaluation */
  | { kind: 'arith'; expr: Word; quoted: boolean };

/** ${name OP word}: the operators of XCU 2.6.2 this shell implements. */
export type ParamOp = ':-' | '-' | ':=' | '=' | ':+' | '+' | ':?' | '?' | '#len' | '%' | '%%' | '#' | '##';

export interface Word { parts: WordPart[] }

export interface Redirect {
  /** The file descriptor redirected: 0, 1 or 2. */
  fd: number;
  /**
   * `<`, `>`, `>|` (same as `>` here), `>>`, `>&` / `<&` (duplicate: target is a fd),
   * `<<` and `<<-` (a here-document, XCU 2.7.4: target is its text, filled in when the
   * parser reaches the lines after the operator's line).
   */
  op: '<' | '>' | '>>' | '>&' | '<&' | '<<';
  target: Word;
}

export interface Assignment { name: string; value: Word }

export interface SimpleCommand {
  kind: 'simple';
  assigns: Assignment[];
  words: Word[];
  redirects: Redirect[];
  line: number;
}

export interface IfCommand {
  kind: 'if';
  /** `if C; then B` and every `elif C; then B`, in order. */
  clauses: { cond: List; body: List }[];
  otherwise: List | null;
  redirects: Redirect[];
}

export interface ForCommand {
  kind: 'for';
  name: string;
  /** null for `for x; do` (the positional parameters). */
  items: Word[] | null;
  body: List;
  redirects: Redirect[];
}

export interface LoopCommand {
  kind: 'while';
  /** `until` runs the body while the condition fails. */
  until: boolean;
  cond: List;
  body: List;
  redirects: Redirect[];
}

export interface GroupCommand {
  kind: 'group';
  /** `( list )` runs in a subshell; `{ list; }` in the current shell. */
  subshell: boolean;
  body: List;
  redirects: Redirect[];
}

/** XCU 2.9.4.3: `case WORD in PATTERN|PATTERN) LIST ;; ... esac`. */
export interface CaseCommand {
  kind: 'case';
  word: Word;
  items: { patterns: Word[]; body: List }[];
  redirects: Redirect[];
}

/**
 * XCU 2.9.5: `NAME() compound-command [redirections]`. Running it defines NAME; the
 * redirections belong to the body (they apply at every call), so `redirects` stays empty.
 */
export interface FunctionCommand {
  kind: 'function';
  name: string;
  body: Command;
  redirects: Redirect[];
}

export type Command = SimpleCommand | IfCommand | ForCommand | LoopCommand | GroupCommand | CaseCommand | FunctionCommand;

export interface Pipeline {
  /** `! pipeline`: the status is inverted. */
  bang: boolean;
  commands: Command[];
}

export interface AndOr {
  first: Pipeline;
  rest: { op: '&&' | '||'; pipeline: Pipeline }[];
}

/** Commands separated by `;` or newlines, run in order. */
export type List = AndOr[];
