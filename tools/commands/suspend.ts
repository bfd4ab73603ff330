/**
 * suspend: suspend to RAM (S3) and wake up again. The kernel writes back the caches and
 * checks that the platform key will survive; the machine sleeps (DRAM kept, CPUs, caches
 * and key tables reset; the BIOS restores the TME key saved for standby); the kernel
 * resumes and programs its KeyIDs again. Boot with `--bios savekey=on` to allow it, and
 * with `--append mktme_storekeys` so that type=user keys come back too.
 */
import { suspend_prepare, suspend_resume } from '../../arch/x86/kernel/suspend.js';
import { strerror } from '../../kernel/errno.js';
import { CommandError, UsageError, type Command } from '../registry.js';
import { board, type KernelShellContext } from '../context.js';

export const suspendCommand: Command<KernelShellContext> = {
  name: 'suspend',
  usage: 'suspend',
  summary: 'suspend to RAM (S3) and resume',
  run(ctx, args, io) {
    if (args.length) throw new UsageError();
    const m = board(ctx); // the board's power button: a guest has none to press
    const err = suspend_prepare();
    if (err < 0) throw new CommandError(strerror(err));
    m.suspendResume();
    for (const w of m.biosWarnings) io.err(`${w}\n`);
    return suspend_resume() < 0 ? 1 : 0;
  },
};
