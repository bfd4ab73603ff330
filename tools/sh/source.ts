/**
 * The special built-ins that run text as commands of the current shell (XCU 2.14):
 *
 * - `. FILE [ARG...]` (dot): FILE is read whole through the shell's files (a host file
 *   relative to the working directory, or the kernel's /proc, /sys, /dev) and run in
 *   the current environment, so the functions and variables it defines stay. There is
 *   no PATH search (XCU 2.14 asks for one when FILE has no slash; the shell's commands
 *   are not host programs): `. lib.sh` reads ./lib.sh, where dash says "not found".
 *   `return [N]` ends the script with N; ARGs, if any, are $1... while it runs and the
 *   caller's come back after (as in bash and ksh; dash 0.5.12 ignores them). Its status
 *   is its last command's, 0 for none. A file that cannot be read: "cannot open", as
 *   dash; a syntax error: the parser's message with FILE's line, and nothing of it runs
 *   (dash runs the commands before the error: it parses as it goes).
 * - `eval [ARG...]`: the ARGs joined by single spaces are parsed and run in the current
 *   environment; the status is the last command's, 0 for none; a syntax error: the
 *   parser's message, status 2.
 * Their errors (no FILE, one that cannot be read, a syntax error) are a special
 * built-in's: what the shell runs stops, status 2 (XCU 2.8.1; builtins.ts).
 *
 * Both nest, with function calls, at most as deep as tools/sh/interp.ts allows (a file
 * that dots itself, an `eval` of itself, stop there with a message, status 2).
 */
import type { List } from './ast.js';
import { FunctionReturn, specialBuiltinError } from './control.js';
import type { Frame } from './frame.js';
import { parseShell } from './parse.js';
import { FileError, type ShellFiles } from '../lib/files.js';
import { fromUtf8 } from '../lib/io.js';

/** What `.` and `eval` need from the runner. */
export interface SourceScope {
  params: string[];
  readonly files: ShellFiles;
  /** Run a list in the current environment: its last command's status. */
  list(list: List, f: Frame): number;
  /** Run `fn` one level deeper in the nesting of calls, dot scripts and evals (bounded). */
  nest(name: string, f: Frame, fn: () => number): number;
}

/** Parse `text` and run it with `run`; `name` is the source in messages. */
function source(scope: SourceScope, text: string, name: string, f: Frame, run: (list: List) => number): number {
  const parsed = parseShell(text);
  if (!parsed.ok) specialBuiltinError(f, `sh: ${name}: line ${parsed.line}: ${parsed.error}\n`);
  if (parsed.value.length === 0) return 0;
  return scope.nest(name, f, () => run(parsed.value));
}

export function dot(args: string[], f: Frame, scope: SourceScope): number {
  if (args.length === 0) specialBuiltinError(f, '.: usage: . FILE [ARG...]\n');
  const [file, ...params] = args;
  let text: string;
  try {
    text = fromUtf8(scope.files.read(file));
  } catch (e) {
    if (!(e instanceof FileError)) throw e;
    specialBuiltinError(f, `.: cannot open ${file}: ${e.message}\n`);
  }
  return source(scope, text, file, f, (list) => {
    const saved = scope.params;
    if (params.length) scope.params = params;
    try {
      return scope.list(list, f);
    } catch (e) {
      if (e instanceof FunctionReturn) return e.status;
      throw e;
    } finally {
      if (params.length) scope.params = saved;
    }
  });
}

export function evalBuiltin(args: string[], f: Frame, scope: SourceScope): number {
  return source(scope, args.join(' '), 'eval', f, (list) => scope.list(list, f));
}
