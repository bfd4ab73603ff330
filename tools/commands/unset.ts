/**
 * unset [-v] NAME...: remove shell variables (POSIX XCU 2.14 unset). This shell has no
 * functions, so -f is refused.
 */
import { UsageError, type Command } from '../registry.js';

export const unsetCommand: Command<unknown> = {
  name: 'unset',
  usage: 'unset [-v] NAME...',
  summary: 'remove shell variables',
  run(_ctx, args, _io, sh) {
    if (args[0] === '-v') args = args.slice(1);
    else if (args[0] === '-f') throw new UsageError('this shell has no functions');
    for (const name of args) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new UsageError(`'${name}': not a valid name`);
      sh.unsetVar(name);
    }
    return 0;
  },
};
