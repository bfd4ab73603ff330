/**
 * read: load LEN bytes at ADDR with user-mode loads of the shell's process and print
 * them: as text (up to the first NUL byte, other control bytes shown as '.'), as a
 * hexdump with -x, or as the raw bytes with -r (for a pipe: `read ADDR 64 -r | xxd`).
 * `read [-r] NAME...` is sh's read instead (sh_read.ts). A fault the kernel cannot fix kills the process ("Segmentation
 * fault"); the shell then carries on as its parent.
 */
import { user_read } from '../../mm/uaccess.js';
import { UsageError, type Command, type ShellApi } from '../registry.js';
import { isShellRead, shellRead } from './sh_read.js';
import type { KernelShellContext } from '../context.js';
import { formatHexdump } from '../lib/parse.js';
import { writeBytes } from '../lib/io.js';
import { nargs, parse_addr, parse_len, shell_process_ended, shell_task } from '../lib/process.js';

/** Longest read the command accepts. */
const READ_MAX = 1 << 20;

/** The bytes as a C string: stop at NUL, '.' for control bytes other than \t and \n. */
function as_text(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) {
    if (b === 0) break;
    s += b === 9 || b === 10 || (b >= 0x20 && b < 0x7f) ? String.fromCharCode(b) : '.';
  }
  return s.endsWith('\n') ? s : s + '\n';
}

export const readCommand: Command<KernelShellContext> = {
  name: 'read',
  usage: 'read ADDR LEN [-x | -r]',
  summary: 'load bytes from the current process (user mode)',
  help: 'With variable names instead (read [-r] NAME...) it is sh\'s read: one line of\n' +
    'standard input into the variables, as in `cmd | while read a b; do ...; done`.',
  run(ctx, args, io, sh) {
    if (isShellRead(args)) return shellRead(args, io, sh as ShellApi<unknown>);
    const mode = args[args.length - 1];
    const hex = mode === '-x';
    const raw = mode === '-r';
    const ops = hex || raw ? args.slice(0, -1) : args;
    nargs(ops, 2, 2);
    const addr = parse_addr(ops[0]);
    const len = parse_len(ops[1]);
    if (len > READ_MAX) throw new UsageError(`LEN: at most ${READ_MAX} bytes`);
    const tsk = shell_task(ctx);
    const r = user_read(tsk, addr, len);
    if (!r.ok) return shell_process_ended(ctx, io, tsk);
    if (raw) writeBytes(io, r.value);
    else io.out(hex ? formatHexdump(addr, r.value) : as_text(r.value));
    return 0;
  },
};
