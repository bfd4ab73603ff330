/**
 * How a command changes the shell's flow, thrown through the runner: `exit` (and
 * poweroff) end the shell or the subshell it runs in, `break`/`continue` leave loops,
 * `return` leaves a function, and a runaway recursion aborts what is running.
 */

/**
 * Stop the shell once this command is done (exit, poweroff), with `status`. Scope
 * 'subshell' ends only the innermost subshell ($(...), ( ), a pipeline stage), as
 * `exit` does there in sh; 'shell' stops everything (the machine is off).
 */
export class ShellExit extends Error {
  constructor(readonly status = 0, readonly scope: 'shell' | 'subshell' = 'shell') {
    super(`exit ${status}`);
    this.name = 'ShellExit';
  }
}

/** break N / continue N: leave (or restart) the N-th enclosing loop. */
export class LoopControl extends Error {
  constructor(readonly kind: 'break' | 'continue', public levels: number) {
    super(kind);
    this.name = 'LoopControl';
  }
}

/** `return [N]` (XCU 2.14 return): leave the innermost function with `status`. */
export class FunctionReturn extends Error {
  constructor(readonly status: number) {
    super(`return ${status}`);
    this.name = 'FunctionReturn';
  }
}

/**
 * Stop what the shell is running (the script, or the current line at the prompt) with
 * `status`, as dash does after a runaway recursion; a subshell stops only itself. The
 * message has been printed where it happened (to the stderr in effect there).
 */
export class ShellAbort extends Error {
  constructor(readonly status: number) {
    super('abort');
    this.name = 'ShellAbort';
  }
}

/**
 * Room the host's stack must still have when a function is called, in frames of a
 * trivial function: enough for the deepest command (a kernel call, a filter) to run
 * below the call, so a runaway recursion ends here, with a message, and never as a
 * host stack overflow inside some command. (The call that finds too little room
 * still has nearly all of what its caller found, ample to print the message.)
 */
const HEADROOM_FRAMES = 2500;

function probe(n: number): number {
  return n <= 0 ? 0 : probe(n - 1) + 1;
}

/** Has the host's stack room for HEADROOM_FRAMES more frames? */
export function stackHeadroom(): boolean {
  try {
    return probe(HEADROOM_FRAMES) === HEADROOM_FRAMES;
  } catch (e) {
    if (e instanceof RangeError) return false;
    throw e;
  }
}

/** Is `e` the host's "Maximum call stack size exceeded"? */
export function isStackOverflow(e: unknown): boolean {
  return e instanceof RangeError && e.message.includes('call stack');
}
