/**
 * How a command changes the shell's flow, thrown through the runner: `exit` (and
 * poweroff) end the shell or the subshell it runs in, `break`/`continue` leave loops.
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
