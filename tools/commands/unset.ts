/**
 * unset [-f|-v] NAME... (POSIX XCU 2.14 unset): remove shell variables, or with -f the
 * functions of those names (tools/sh/interp.ts). A name that is not set is no error. A
 * bad NAME is a special built-in's error: nothing is removed and what the shell runs
 * stops, status 2 (tools/registry.ts, XCU 2.8.1). Without -f only variables go, as in
 * dash (XCU leaves open whether a function goes when no variable has the name).
 */
import { UsageError, type Command } from '../registry.js';
import { NAME_RE } from '../sh/parse_compound.js';

export const unsetCommand: Command<unknown> = {
  name: 'unset',
  usage: 'unset [-f|-v] NAME...',
  summary: 'remove shell variables or functions',
  run(_ctx, args, _io, sh) {
    let functions = false;
    if (args[0] === '-f' || args[0] === '-v') { functions = args[0] === '-f'; args = args.slice(1); }
    else if (args[0] === '--') args = args.slice(1);
    if (args[0]?.startsWith('-') && args[0] !== '-') throw new UsageError(`${args[0]}: unsupported option (only -f and -v are)`);
    const bad = args.find((n) => !NAME_RE.test(n));
    if (bad !== undefined) throw new UsageError(`'${bad}': not a valid name`);
    for (const name of args) {
      if (functions) sh.unsetFunction(name);
      else sh.unsetVar(name);
    }
    return 0;
  },
};
