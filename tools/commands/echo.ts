/**
 * echo: print the arguments separated by single spaces. `-n` leaves out the final
 * newline. No escape sequences are interpreted (quote in the script instead).
 */
import type { Command } from '../registry.js';

export const echoCommand: Command<unknown> = {
  name: 'echo',
  usage: 'echo [-n] [WORD...]',
  summary: 'print the arguments',
  run(_ctx, args, io) {
    let newline = true;
    if (args[0] === '-n') { newline = false; args = args.slice(1); }
    io.out(args.join(' ') + (newline ? '\n' : ''));
    return 0;
  },
};
