/**
 * sync: write every dirty cache line back to memory (WBINVD on one CPU of each
 * package), so the DIMMs hold what the caches held (as ciphertext, under TME).
 */
import { wbinvd_on_all_packages } from '../../arch/x86/kernel/reboot.js';
import { UsageError, type Command } from '../registry.js';
import type { KernelShellContext } from '../context.js';

export const syncCommand: Command<KernelShellContext> = {
  name: 'sync',
  usage: 'sync',
  summary: 'write back all caches (WBINVD on each package)',
  run(_ctx, args) {
    if (args.length > 0) throw new UsageError('too many arguments');
    wbinvd_on_all_packages();
    return 0;
  },
};
