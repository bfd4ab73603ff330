/**
 * poweroff: shut the kernel down (caches written back) and stop the shell, status 0.
 */
import { UsageError, type Command } from '../registry.js';
import type { KernelShellContext } from '../context.js';

export const poweroffCommand: Command<KernelShellContext> = {
  name: 'poweroff',
  usage: 'poweroff',
  summary: 'power the machine off and leave the shell',
  run(ctx, args) {
    if (args.length > 0) throw new UsageError('too many arguments');
    return ctx.poweroff();
  },
};
