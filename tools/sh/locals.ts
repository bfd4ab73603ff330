/**
 * `local` variables (not POSIX; dash 0.5.12's semantics): each function call has a
 * scope recording the previous value (or the unset state) of every variable declared
 * local in it, and `local -` the previous `set` options; leaving the call, however it ends
 * (return, an error that aborts it, the end of its body), puts them back. Scoping is
 * dynamic, as in dash: a function called from it sees and changes the local variable.
 */

import type { ShellVars, VarEntry } from './vars.js';

/** The variables and option one function call has declared local. */
interface CallScope {
  readonly saved: Map<string, VarEntry>;
  /** `local -`: the caller's `set` options ($-). */
  options?: string;
  readonly parent: CallScope | null;
}

/** What the locals save and restore. */
export interface LocalState {
  readonly vars: ShellVars;
  /** The `set` options on, as $- shows them. */
  options: string;
}

export class Locals {
  private top: CallScope | null = null;

  /** Inside a function call (`local` is allowed). */
  get active(): boolean { return this.top !== null; }

  /** Run a function call's body: what it declares local is restored when it ends. */
  call<T>(state: LocalState, fn: () => T): T {
    const scope: CallScope = { saved: new Map(), parent: this.top };
    this.top = scope;
    try {
      return fn();
    } finally {
      this.top = scope.parent;
      for (const [k, v] of scope.saved) state.vars.entryPut(k, v);
      if (scope.options !== undefined) state.options = scope.options;
    }
  }

  /**
   * Make NAME (or `-`, the options) local to the innermost call, keeping its value as
   * dash does; declaring it again keeps the first saved value. Needs active.
   */
  declare(state: LocalState, name: string): void {
    const scope = this.top!;
    if (name === '-') {
      if (scope.options === undefined) scope.options = state.options;
    } else if (!scope.saved.has(name)) {
      scope.saved.set(name, state.vars.entry(name));
    }
  }

  /**
   * Enter a subshell: `local` there must not record into the call scope outside (the
   * subshell's variables vanish with it), so the innermost scope is copied until
   * `restore`, the returned function, is called.
   */
  enterSubshell(): () => void {
    const outer = this.top;
    if (outer) this.top = { saved: new Map(outer.saved), options: outer.options, parent: outer.parent };
    return () => { this.top = outer; };
  }
}
