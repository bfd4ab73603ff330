/**
 * `set -e`'s bookkeeping (XCU 2.14 set -e): the commands whose failure it ignores are
 * running while `ignoring` runs them (the conditions of if, elif, while and until, a `!`
 * pipeline, every command of an AND-OR list but the last, and functions called there),
 * and `applies` says whether a failure ends the shell now. The runner checks after a
 * simple command, a multi-command pipeline and a `( )`, as dash does (interp.ts).
 */
export class Errexit {
  private ignored = 0;

  ignoring(fn: () => number): number {
    this.ignored++;
    try {
      return fn();
    } finally {
      this.ignored--;
    }
  }

  /** A command ended with `status`, under the `set` options `options` ($-). */
  applies(status: number, options: string): boolean {
    return status !== 0 && this.ignored === 0 && options.includes('e');
  }
}
