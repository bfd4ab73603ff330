/**
 * The kernel boundary of every kernel command: what happens when kernel code, running
 * for the shell's process, does not return normally.
 *
 *  - a hardware exception (Fault) or a host exception thrown by kernel code: the
 *    kernel's own handling (arch/x86/kernel/traps.ts) prints the oops and kills the
 *    process; the shell then reports it as sh reports a dead child ("Killed",
 *    "Segmentation fault"), its parent reaps it, and the session carries on
 *  - a kernel panic: the machine is stopped; the panic is on the console and the
 *    session ends with status 1 ("sh: kernel panic: the machine is halted")
 *  - a host I/O error (a Node error with an errno code, e.g. --nvram-file or
 *    `dimm save FILE` on a directory): "NAME: PATH: Is a directory", status 1
 *
 * The shell's own errors (UsageError, CommandError, ShellExit, ShellAbort, and a
 * readonly variable's ReadonlyError from `read`) pass through.
 */
import { constants as osConstants } from 'node:os';
import { handle_kernel_exception } from '../../arch/x86/kernel/traps.js';
import { KernelPanic } from '../../kernel/panic.js';
import { find_task_by_vpid } from '../../kernel/sched.js';
import { strerror } from '../../kernel/errno.js';
import { CommandError, SHELL_NAME, ShellExit, UsageError, type Command, type ShellIo } from '../registry.js';
import type { KernelShellContext } from '../context.js';
import { shell_process_ended } from './process.js';
import { ShellAbort } from '../sh/control.js';
import { ReadonlyError } from '../sh/vars.js';

/** Exit status of a session that ended in a kernel panic. */
export const STATUS_PANIC = 1;

/** A Node system error (fs, net): code 'EISDIR', errno -21, path, syscall. */
interface HostError { code: string; errno?: number; path?: string; syscall?: string; message: string }

export function isHostError(e: unknown): e is HostError {
  const h = e as unknown as Partial<HostError>;
  return e instanceof Error && typeof h.code === 'string' &&
    /^E[A-Z0-9]+$/.test(h.code) && typeof h.syscall === 'string';
}

/** The host error in the shell's words: "PATH: strerror" (or the code when unknown). */
export function hostErrorText(e: HostError): string {
  const n = (osConstants.errno as Record<string, number>)[e.code];
  const text = n !== undefined && !strerror(n).startsWith('Unknown') ? strerror(n) : e.code;
  return e.path ? `${e.path}: ${text}` : text;
}

function panicked(io: ShellIo): never {
  io.err(`${SHELL_NAME}: kernel panic: the machine is halted\n`);
  throw new ShellExit(STATUS_PANIC);
}

/** `cmd` with the kernel boundary around its run(). */
export function kernel_entry(cmd: Command<KernelShellContext>): Command<KernelShellContext> {
  return {
    ...cmd,
    run(ctx, args, io, sh) {
      try {
        return cmd.run(ctx, args, io, sh);
      } catch (e) {
        if (e instanceof UsageError || e instanceof CommandError || e instanceof ShellExit || e instanceof ShellAbort ||
          e instanceof ReadonlyError) throw e;
        if (e instanceof KernelPanic) return panicked(io);
        if (isHostError(e)) throw new CommandError(hostErrorText(e));
        const found = find_task_by_vpid(ctx.pid);
        const tsk = found && !found.exit_state ? found : null;
        try {
          handle_kernel_exception(e, tsk, tsk ? tsk.cpu : 0);
        } catch (p) {
          if (p instanceof KernelPanic) return panicked(io);
          throw p;
        }
        if (tsk && tsk.exit_state) return shell_process_ended(ctx, io, tsk);
        return 1;
      }
    },
  };
}
