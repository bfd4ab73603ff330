/**
 * exit: stop the shell. The status defaults to that of the previous command, as in sh.
 */
import { ShellExit, UsageError, type Command } from '../registry.js';
import { parseIntIn } from '../lib/parse.js';

export const exitCommand: Command<unknown> = {
  name: 'exit',
  usage: 'exit [STATUS]',
  summary: 'leave the shell',
  help: 'STATUS is 0..255; without it the shell exits with the previous command\'s status.',
  run(_ctx, args, _io, sh) {
    if (args.length > 1) throw new UsageError('too many arguments');
    let status = sh.lastStatus;
    if (args.length === 1) {
      const r = parseIntIn(args[0], 0, 255, 'STATUS');
      if (!r.ok) throw new UsageError(r.error);
      status = r.value;
    }
    throw new ShellExit(status);
  },
};
