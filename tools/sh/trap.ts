/**
 * `trap [ACTION CONDITION...]` (XCU 2.14 trap), run by the runner, with dash's words.
 *
 * CONDITION is EXIT (or 0), or a signal by name (INT, SIGINT) or Linux number. ACTION
 * `-` resets the conditions, an empty ACTION ignores them; a first operand that is a
 * number makes every operand a condition to reset (`trap 2`). Alone, `trap` lists the
 * actions set, `trap -- 'ACTION' NAME`, EXIT first, then by signal number.
 *
 * EXIT's action runs when the shell ends: at the end of the script or the session, on
 * `exit`, on an error that stops the script (interp.ts exitTrap, called by tools/main.ts)
 * and, for a subshell's own trap, when the subshell ends. Nothing here sends the shell
 * a signal (there is no `kill`, and the prompt has no job control), so a signal's action
 * is kept and listed but never runs. A CONDITION that is neither is dash's "bad trap",
 * status 1 (not a special built-in's error in dash: the script goes on).
 */
import type { List } from './ast.js';
import { FunctionReturn, LoopControl, ShellAbort, ShellExit } from './control.js';
import type { Frame } from './frame.js';
import { parseShell } from './parse.js';
import { singleQuote } from './quote.js';

/** Linux's signal numbers by name (include/uapi/asm-generic/signal.h), EXIT as 0. */
const SIGNALS: Readonly<Record<string, number>> = {
  EXIT: 0, HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, BUS: 7, FPE: 8, KILL: 9, USR1: 10, SEGV: 11, USR2: 12,
  PIPE: 13, ALRM: 14, TERM: 15, STKFLT: 16, CHLD: 17, CONT: 18, STOP: 19, TSTP: 20, TTIN: 21, TTOU: 22, URG: 23,
  XCPU: 24, XFSZ: 25, VTALRM: 26, PROF: 27, WINCH: 28, IO: 29, PWR: 30, SYS: 31,
};
const NAMES: readonly string[] = Object.keys(SIGNALS).sort((a, b) => SIGNALS[a] - SIGNALS[b]);

/** The condition's number, or null (a bad trap). */
function condition(word: string): number | null {
  if (/^[0-9]+$/.test(word)) return Number(word) <= 31 ? Number(word) : null;
  const name = word.toUpperCase().replace(/^SIG/, '');
  return name in SIGNALS ? SIGNALS[name] : null;
}


/** trap's arguments applied to `traps` (condition number -> action). */
export function trapBuiltin(args: string[], f: Frame, traps: Map<number, string>): number {
  if (args[0] === '--') args = args.slice(1);
  if (args.length === 0) {
    for (const [n, action] of [...traps].sort((a, b) => a[0] - b[0])) f.out.write(`trap -- ${singleQuote(action)} ${NAMES[n]}\n`);
    return 0;
  }
  // A lone operand, or a first one that is a number: the operands are conditions to reset.
  const reset = args.length === 1 || /^[0-9]+$/.test(args[0]);
  const action = reset ? '-' : args[0];
  let status = 0;
  for (const word of reset ? args : args.slice(1)) {
    const n = condition(word);
    if (n === null) {
      f.err.write(`trap: ${word}: bad trap\n`);
      status = 1;
      continue;
    }
    if (action === '-') traps.delete(n);
    else traps.set(n, action);
  }
  return status;
}

/**
 * A shell (or subshell) ends with `status`: its EXIT action, if one is set, runs once
 * through `run` (which sets $? = status first); the status stays unless the action calls
 * `exit` (XCU 2.14 trap) or stops on an error. An action that does not parse is a message.
 */
export function runExitAction(traps: Map<number, string>, status: number, f: Frame, run: (list: List) => number): number {
  const action = traps.get(0);
  if (action === undefined || action === '') return status;
  traps.delete(0);
  const parsed = parseShell(action);
  if (!parsed.ok) {
    f.err.write(`sh: trap: line ${parsed.line}: ${parsed.error}\n`);
    return status;
  }
  try {
    run(parsed.value);
  } catch (e) {
    if (e instanceof ShellExit || e instanceof ShellAbort) return e.status;
    if (!(e instanceof LoopControl || e instanceof FunctionReturn)) throw e;
  }
  return status;
}
