/**
 * The special built-ins that act on the runner's own state (XCU 2.14), so the runner
 * runs them itself rather than through the command registry:
 *
 * - `set [-efux|+efux] [-o NAME|+o NAME] [--] [ARG...]`: ARGs become the positional
 *   parameters (`set --` with none clears them); the options (XCU 2.14 set) turn on
 *   with - and off with +: -e errexit (a failing command ends the shell, tools/sh/
 *   interp.ts), -f noglob (no pathname expansion), -u nounset (an unset parameter is an
 *   expansion error, tools/sh/expand.ts), -x xtrace (each simple command is written to
 *   stderr after $PS4, default "+ ", before it runs); -o/+o take the long names. $-
 *   lists the ones on, in dash's order ("uxfe"). Without operands the variables are
 *   listed, `name='value'`, sorted. Any other option: dash's "Illegal option", status 2.
 * - `shift [N]`: drop the first N (default 1) positional parameters; N greater than $#
 *   is an error (dash's "can't shift that many"), status 2, nothing shifted.
 * - `return [N]`: leave the innermost function or dot script with N (default $?), XCU
 *   2.9.5. Outside both it stops the script (or the subshell) with N, as dash does.
 * - `. FILE [ARG...]` (XCU 2.14 dot): FILE's commands run in the current environment
 *   (tools/sh/source.ts).
 * - `eval [ARG...]` (XCU 2.14 eval): the ARGs joined by spaces run as commands in the
 *   current environment (tools/sh/source.ts).
 * - `local [NAME[=VALUE]|-]...` (dash's; not POSIX): in a function, NAME keeps its value
 *   (or VALUE) until the function ends, then the caller's comes back; `-` does that for
 *   `set -f` (tools/sh/locals.ts). After `local`, a NAME=VALUE word is expanded as an
 *   assignment is (no field splitting, no pathname expansion), as in dash 0.5.12.
 *
 * An error is reported and stops what the shell is running with status 2, as XCU 2.8.1
 * has a special built-in's error do: a script ends (a subshell only itself), a line typed
 * at the prompt is abandoned and the prompt comes back (ShellAbort).
 */
import type { Word } from './ast.js';
import { FunctionReturn, specialBuiltinError } from './control.js';
import { expandFields, expandString, type ExpandEnv } from './expand.js';
import type { Frame } from './frame.js';
import { declareBuiltin } from './declare.js';
import { commandBuiltin, typeBuiltin, waitBuiltin, type LookupScope } from './lookup.js';
import { trapBuiltin } from './trap.js';
import { NAME_RE } from './parse_compound.js';
import { singleQuote } from './quote.js';
import { getoptsBuiltin, type GetoptsState } from './getopts.js';
import { dot, evalBuiltin, type SourceScope } from './source.js';
import type { ShellVars } from './vars.js';

/** What the built-ins change. */
export interface Scope extends SourceScope, LookupScope {
  params: string[];
  /** The `set` options on, as $- shows them (dash's order). */
  options: string;
  readonly vars: ShellVars;
  readonly lastStatus: number;
  /** In a function call (`local` is allowed there only). */
  readonly inFunction: boolean;
  /** Where the last `getopts` stopped (tools/sh/getopts.ts). */
  readonly getopts: GetoptsState;
  /** `trap`'s actions by condition number (tools/sh/trap.ts). */
  readonly traps: Map<number, string>;
  /** Make NAME (`-`: the options) local to the innermost call; then set it to VALUE, if given. */
  declareLocal(name: string, value: string | undefined): void;
}

type Builtin = (args: string[], f: Frame, scope: Scope) => number;

/** A built-in with what `help` says of it. */
export interface RunnerBuiltin {
  run: Builtin;
  /** Synopsis starting with the name. */
  usage: string;
  /** One line for `help`. */
  summary: string;
}

/** A number as the built-ins take it: decimal digits only. */
function number(s: string): number | null {
  return /^[0-9]+$/.test(s) ? Number(s) : null;
}


/** The options `set` takes, by letter: their long names (XCU 2.14 set -o). */
const LONG: Record<string, string> = { e: 'errexit', f: 'noglob', u: 'nounset', x: 'xtrace' };
/** $-'s order: dash lists its options from the last of its table to the first. */
const OPTION_ORDER = 'uxfe';

const set: Builtin = (args, io, scope) => {
  if (args.length === 0) {
    const names = [...scope.vars.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    io.out.write(names.map((n) => `${n}=${singleQuote(scope.vars.get(n)!)}\n`).join(''));
    return 0;
  }
  let i = 0;
  const on = new Set(scope.options);
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === '--' || a === '-') { i++; break; }
    if (!/^[-+]/.test(a)) break;
    for (const c of a.slice(1)) {
      let letter = c;
      if (c === 'o') { // -o NAME: the long name, the next argument
        const name = args[++i];
        letter = Object.keys(LONG).find((k) => LONG[k] === name) ?? '';
        if (!letter) specialBuiltinError(io, `set: Illegal option ${a[0]}o${name === undefined ? '' : ` ${name}`}\n`);
      } else if (!(c in LONG)) specialBuiltinError(io, `set: Illegal option ${a[0]}${c}\n`);
      if (a[0] === '-') on.add(letter); else on.delete(letter);
    }
  }
  scope.options = [...OPTION_ORDER].filter((c) => on.has(c)).join('');
  // Operands (or a `--`) replace the positional parameters; options alone keep them.
  if (i < args.length || args[i - 1] === '--' || args[i - 1] === '-') scope.params = args.slice(i);
  return 0;
};

const shift: Builtin = (args, io, scope) => {
  if (args.length > 1) specialBuiltinError(io, 'shift: too many arguments\n');
  const n = args.length ? number(args[0]) : 1;
  if (n === null) specialBuiltinError(io, `shift: Illegal number: ${args[0]}\n`);
  if (n > scope.params.length) specialBuiltinError(io, "shift: can't shift that many\n");
  scope.params = scope.params.slice(n);
  return 0;
};

const ret: Builtin = (args, io, scope) => {
  if (args.length > 1) specialBuiltinError(io, 'return: too many arguments\n');
  let status = scope.lastStatus;
  if (args.length === 1) {
    const n = number(args[0]);
    if (n === null || n > 255) specialBuiltinError(io, `return: Illegal number: ${args[0]}\n`);
    status = n;
  }
  throw new FunctionReturn(status);
};

const local: Builtin = (args, io, scope) => {
  if (!scope.inFunction) specialBuiltinError(io, 'local: not in a function\n');
  const decls = args.map((a) => {
    const eq = a.indexOf('=');
    return eq < 0 ? { name: a, value: undefined } : { name: a.slice(0, eq), value: a.slice(eq + 1) };
  });
  // All checked first: a bad name changes nothing.
  const bad = decls.find((d) => !NAME_RE.test(d.name) && !(d.name === '-' && d.value === undefined));
  if (bad) specialBuiltinError(io, `local: ${bad.name}: bad variable name\n`);
  const locked = decls.find((d) => scope.vars.readonlyNames.has(d.name));
  if (locked) specialBuiltinError(io, `local: ${locked.name}: is read only\n`);
  for (const d of decls) scope.declareLocal(d.name, d.value);
  return 0;
};

export const RUNNER_BUILTINS: ReadonlyMap<string, RunnerBuiltin> = new Map<string, RunnerBuiltin>([
  ['.', { run: dot, usage: '. FILE [ARG...]', summary: "run a host FILE's commands in this shell (ARGs as $1...)" }],
  ['command', { run: commandBuiltin, usage: 'command [-v|-V] NAME [ARG...]',
    summary: 'run NAME skipping functions; -v/-V: say what NAME is' }],
  ['eval', { run: evalBuiltin, usage: 'eval [ARG...]', summary: 'run the ARGs, joined by spaces, as commands in this shell' }],
  ['export', { run: (args, f, scope) => declareBuiltin('export', args, f, scope.vars), usage: 'export [-p] [NAME[=VALUE]...]',
    summary: 'set and mark variables for export; alone, list them' }],
  ['getopts', { run: (args, f, scope) => getoptsBuiltin(args, f, scope, scope.getopts), usage: 'getopts OPTSTRING NAME [ARG...]',
    summary: 'parse the options in $1... (or the ARGs) one per call' }],
  ['local', { run: local, usage: 'local [NAME[=VALUE]|-]...', summary: "make variables the function's own until it returns" }],
  ['readonly', { run: (args, f, scope) => declareBuiltin('readonly', args, f, scope.vars), usage: 'readonly [-p] [NAME[=VALUE]...]',
    summary: 'set variables and make them read-only; alone, list them' }],
  ['return', { run: ret, usage: 'return [N]', summary: 'leave the function or dot script with status N' }],
  ['set', { run: set, usage: 'set [-efux|+efux] [-o NAME] [--] [ARG...]', summary: 'set -efux options or $1...; alone, list the variables' }],
  ['shift', { run: shift, usage: 'shift [N]', summary: 'drop the first N positional parameters' }],
  ['trap', { run: (args, f, scope) => trapBuiltin(args, f, scope.traps), usage: 'trap [ACTION CONDITION...]',
    summary: 'run ACTION when the shell exits (EXIT); alone, list the actions' }],
  ['type', { run: typeBuiltin, usage: 'type NAME...', summary: 'say what each NAME is: keyword, built-in or function' }],
  ['wait', { run: (args) => waitBuiltin(args), usage: 'wait [PID...]', summary: 'wait for background jobs (there are none)' }],
]);

/** Built-ins after which a NAME=VALUE word is expanded as an assignment (dash 0.5.12). */
const DECLARATION_UTILITIES: ReadonlySet<string> = new Set(['export', 'local', 'readonly']);

/** Does the word start with NAME= unquoted (an assignment's form)? */
function assignmentForm(w: Word): boolean {
  let text = '';
  for (const p of w.parts) {
    if (p.kind !== 'lit' || p.quoted || text.includes('=')) break;
    text += p.text;
  }
  return /^[A-Za-z_][A-Za-z0-9_]*=/.test(text);
}

/**
 * A simple command's words expanded into its arguments (XCU 2.6), left to right; with
 * `builtins`, a NAME=VALUE word after a declaration utility is one field, unsplit and
 * unglobbed (`local x=$v`).
 */
export function expandArgs(words: readonly Word[], env: ExpandEnv, builtins: boolean): string[] {
  const argv: string[] = [];
  for (const w of words) {
    if (builtins && argv.length && DECLARATION_UTILITIES.has(argv[0]) && assignmentForm(w)) argv.push(expandString(w, env));
    else argv.push(...expandFields(w, env));
  }
  return argv;
}

/**
 * XCU 2.14 Special Built-In Utilities: found before functions (XCU 2.9.1.1), so a
 * function of one of these names is never called.
 */
export const SPECIAL_BUILTINS: ReadonlySet<string> = new Set(['break', ':', 'continue', '.', 'eval', 'exec', 'exit',
  'export', 'readonly', 'return', 'set', 'shift', 'times', 'trap', 'unset',
  'local']); // dash's local: a special built-in there too
