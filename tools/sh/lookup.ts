/**
 * The built-ins about finding commands (XCU 2.9.1.1's order: special built-ins, then
 * functions, then the rest), run by the runner, with dash's words:
 *
 * - `type NAME...`: "NAME is a shell keyword" / "a special shell builtin" / "a shell
 *   function" / "a shell builtin", or "NAME: not found" (status 127), on stdout. Every
 *   command of this shell is built in (there are no programs on a PATH), so a command
 *   is "a shell builtin".
 * - `command [-v|-V] NAME [ARG...]`: run NAME with ARGs without looking at functions;
 *   a special built-in run so loses its special properties (XCU 2.14 command): its
 *   error does not stop the script. `-v` writes NAME if it would be found, `-V` what
 *   `type` says; either takes one NAME, as in dash, and says nothing more (127) for one
 *   not found with -v.
 * - `wait [PID...]`: this shell runs no background jobs (`&` is refused), so there is
 *   nothing to wait for: status 0, or 127 for a PID, which is no child of it.
 */
import { ShellAbort } from './control.js';
import type { Frame } from './frame.js';

/** What a name is, as the runner would find it; null: not found. */
export type Found = 'keyword' | 'special' | 'function' | 'builtin' | null;

/** What the lookup built-ins need from the runner. */
export interface LookupScope {
  find(name: string): Found;
  /** Run argv skipping functions (`command NAME`). */
  runWithoutFunctions(argv: string[], f: Frame): number;
}

const STATUS_NOT_FOUND = 127;

const WORDS: Record<Exclude<Found, null>, string> = {
  keyword: 'a shell keyword', special: 'a special shell builtin', function: 'a shell function', builtin: 'a shell builtin',
};

/** type's line for one name, and whether it was found. */
function describe(name: string, scope: LookupScope): [string, boolean] {
  const what = scope.find(name);
  return what === null ? [`${name}: not found\n`, false] : [`${name} is ${WORDS[what]}\n`, true];
}

export function typeBuiltin(args: string[], f: Frame, scope: LookupScope): number {
  let status = 0;
  for (const name of args) {
    const [line, found] = describe(name, scope);
    f.out.write(line);
    if (!found) status = STATUS_NOT_FOUND;
  }
  return status;
}

export function commandBuiltin(args: string[], f: Frame, scope: LookupScope): number {
  let i = 0;
  let mode: 'run' | 'v' | 'V' = 'run';
  for (; i < args.length && /^-[pvV]+$/.test(args[i]); i++) {
    if (args[i].includes('V')) mode = 'V';
    else if (args[i].includes('v') && mode === 'run') mode = 'v';
  }
  if (args[i] === '--') i++;
  const name = args[i];
  if (name === undefined) return 0;
  if (mode === 'v') {
    if (scope.find(name) === null) return STATUS_NOT_FOUND;
    f.out.write(`${name}\n`);
    return 0;
  }
  if (mode === 'V') {
    const [line, found] = describe(name, scope);
    f.out.write(line);
    return found ? 0 : STATUS_NOT_FOUND;
  }
  try {
    return scope.runWithoutFunctions(args.slice(i), f);
  } catch (e) {
    if (e instanceof ShellAbort) return e.status; // a special built-in's error, without its special property
    throw e;
  }
}

export function waitBuiltin(args: string[]): number {
  return args.length === 0 ? 0 : STATUS_NOT_FOUND;
}
