/**
 * How a command changes the shell's flow, thrown through the runner: `exit` (and
 * poweroff) end the shell or the subshell it runs in, `break`/`continue` leave loops,
 * `return` leaves a function, and a runaway recursion aborts what is running (Nesting
 * bounds it).
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
 * A special built-in's error (XCU 2.8.1): `message` on the stderr in effect, then what
 * the shell runs stops with status 2 (ShellAbort).
 */
export function specialBuiltinError(f: { err: { write(s: string): void } }, message: string): never {
  f.err.write(message);
  throw new ShellAbort(2);
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

/**
 * How deep function calls, dot scripts and evals may nest (dash's limit for calls).
 * Each level costs the host a few dozen stack frames, more for a body of nested compound
 * commands; when the host's stack is nearer its end than the headroom above, a level
 * stops the same way, sooner.
 */
export const MAX_FUNCTION_DEPTH = 1000;

const STATUS_ABORT = 2;

/** The nesting of function calls, dot scripts and evals, bounded as MAX_FUNCTION_DEPTH says. */
export class Nesting {
  private depth = 0;

  /**
   * Run `fn` one level deeper; past the bound, `sh: NAME: ...` goes to `err` and the
   * script stops (ShellAbort), status 2.
   */
  run(name: string, err: { write(s: string): void }, kind: 'call' | 'source', fn: () => number): number {
    const stop = (message: string): ShellAbort => {
      err.write(`sh: ${name}: ${message}\n`);
      return new ShellAbort(STATUS_ABORT);
    };
    if (this.depth >= MAX_FUNCTION_DEPTH) {
      throw stop(`maximum ${kind === 'call' ? 'function recursion' : 'nesting'} depth (${MAX_FUNCTION_DEPTH}) reached`);
    }
    if (!stackHeadroom()) {
      throw stop(`${kind === 'call' ? 'function calls ' : ''}nested too deeply for the host's stack (${this.depth} levels)`);
    }
    this.depth++;
    try {
      return fn();
    } finally {
      this.depth--;
    }
  }
}
