/**
 * The special built-ins that act on the runner's own state (XCU 2.14), so the runner
 * runs them itself rather than through the command registry:
 *
 * - `set [-f|+f] [--] [ARG...]`: ARGs become the positional parameters (`set --` with
 *   none clears them); -f / +f turn pathname expansion off / on; without operands the
 *   variables are listed, `name='value'`, sorted. Other options are refused, status 2.
 * - `shift [N]`: drop the first N (default 1) positional parameters; N greater than $#
 *   is an error (dash's "can't shift that many"), status 2, nothing shifted.
 * - `return [N]`: leave the innermost function with N (default $?), XCU 2.9.5. Outside
 *   a function it stops the script (or the subshell) with N, as dash does.
 *
 * An error is reported and gives status 2, but does not end the shell (XCU 2.8.1 says a
 * non-interactive shell exits; this shell's other special built-ins do not either).
 */
import { FunctionReturn } from './control.js';

/** What the built-ins change. */
export interface Scope {
  params: string[];
  noglob: boolean;
  readonly vars: ReadonlyMap<string, string>;
  readonly lastStatus: number;
}

interface Streams { out: { write(s: string): void }; err: { write(s: string): void } }

type Builtin = (args: string[], io: Streams, scope: Scope) => number;

const STATUS_USAGE = 2;

/** A number as the built-ins take it: decimal digits only. */
function number(s: string): number | null {
  return /^[0-9]+$/.test(s) ? Number(s) : null;
}

function quote(v: string): string {
  return `'${v.replace(/'/g, `'\\''`)}'`;
}

const set: Builtin = (args, io, scope) => {
  if (args.length === 0) {
    const names = [...scope.vars.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    io.out.write(names.map((n) => `${n}=${quote(scope.vars.get(n)!)}\n`).join(''));
    return 0;
  }
  let i = 0;
  let noglob = scope.noglob;
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === '--' || a === '-') { i++; break; }
    if (!/^[-+]/.test(a)) break;
    for (const c of a.slice(1)) {
      if (c !== 'f') {
        io.err.write(`set: ${a[0]}${c}: unsupported option (only -f, +f and -- are)\n`);
        return STATUS_USAGE;
      }
    }
    noglob = a[0] === '-';
  }
  scope.noglob = noglob;
  // Operands (or a `--`) replace the positional parameters; options alone keep them.
  if (i < args.length || args[i - 1] === '--' || args[i - 1] === '-') scope.params = args.slice(i);
  return 0;
};

const shift: Builtin = (args, io, scope) => {
  if (args.length > 1) {
    io.err.write('shift: too many arguments\n');
    return STATUS_USAGE;
  }
  const n = args.length ? number(args[0]) : 1;
  if (n === null) {
    io.err.write(`shift: Illegal number: ${args[0]}\n`);
    return STATUS_USAGE;
  }
  if (n > scope.params.length) {
    io.err.write("shift: can't shift that many\n");
    return STATUS_USAGE;
  }
  scope.params = scope.params.slice(n);
  return 0;
};

const ret: Builtin = (args, io, scope) => {
  let status = scope.lastStatus;
  if (args.length > 1) {
    io.err.write('return: too many arguments\n');
    status = STATUS_USAGE;
  } else if (args.length === 1) {
    const n = number(args[0]);
    if (n === null || n > 255) {
      io.err.write(`return: Illegal number: ${args[0]}\n`);
      status = STATUS_USAGE;
    } else status = n;
  }
  throw new FunctionReturn(status);
};

export const RUNNER_BUILTINS: ReadonlyMap<string, Builtin> = new Map([['set', set], ['shift', shift], ['return', ret]]);

/**
 * XCU 2.14 Special Built-In Utilities: found before functions (XCU 2.9.1.1), so a
 * function of one of these names is never called.
 */
export const SPECIAL_BUILTINS: ReadonlySet<string> = new Set(['break', ':', 'continue', '.', 'eval', 'exec', 'exit',
  'export', 'readonly', 'return', 'set', 'shift', 'times', 'trap', 'unset']);
