/**
 * write: store TEXT (the words joined by spaces) or hex:BYTES at ADDR with user-mode
 * stores of the shell's process. A fault the kernel cannot fix kills the process
 * ("Segmentation fault"); the shell then carries on as its parent.
 */
import { user_write } from '../../mm/uaccess.js';
import { UsageError, type Command } from '../registry.js';
import type { KernelShellContext } from '../context.js';
import { parseHexBytes } from '../lib/parse.js';
import { nargs, parse_addr, shell_process_ended, shell_task } from '../lib/process.js';

/** Longest write the command accepts. */
const WRITE_MAX = 1 << 20;

export const writeCommand: Command<KernelShellContext> = {
  name: 'write',
  usage: 'write ADDR TEXT... | write ADDR hex:BYTES',
  summary: 'store bytes in the current process (user mode)',
  run(ctx, args, io) {
    nargs(args, 2, Infinity);
    const addr = parse_addr(args[0]);
    let bytes: Uint8Array;
    if (args.length === 2 && args[1].startsWith('hex:')) {
      const r = parseHexBytes(args[1].slice(4));
      if (!r.ok) throw new UsageError(r.error);
      bytes = r.value;
    } else {
      bytes = new TextEncoder().encode(args.slice(1).join(' '));
    }
    if (bytes.length > WRITE_MAX) throw new UsageError(`at most ${WRITE_MAX} bytes`);
    const tsk = shell_task(ctx);
    const r = user_write(tsk, addr, bytes);
    return r.ok ? 0 : shell_process_ended(ctx, io, tsk);
  },
};
