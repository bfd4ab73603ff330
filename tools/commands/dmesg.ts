/**
 * dmesg: print the kernel log buffer, one record a line, "[    0.000123] message".
 */
import { dmesg } from '../../kernel/printk.js';
import { UsageError, type Command } from '../registry.js';
import type { KernelShellContext } from '../context.js';

export const dmesgCommand: Command<KernelShellContext> = {
  name: 'dmesg',
  usage: 'dmesg',
  summary: 'print the kernel log',
  run(_ctx, args, io) {
    if (args.length > 0) throw new UsageError('too many arguments');
    const lines = dmesg();
    if (lines.length) io.out(lines.join('\n') + '\n');
    return 0;
  },
};
