/**
 * sleep NUMBER[smhd]...: let the machine's virtual clock run for the sum of the
 * intervals (coreutils syntax), with every CPU idle. Nothing waits on the host: a
 * `sleep 60` takes no time, and dmesg timestamps and key timeouts move by a minute.
 */
import { TSC_HZ } from '../../arch/x86/hw/clock.js';
import { CommandError, UsageError, type Command } from '../registry.js';
import { type KernelShellContext } from '../context.js';

const UNIT: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86400 };
/** Longest sleep accepted: 30 days keeps the cycle counter an exact integer. */
const SLEEP_MAX_S = 30 * 86400;

export const sleepCommand: Command<KernelShellContext> = {
  name: 'sleep',
  usage: 'sleep NUMBER[smhd]...',
  summary: 'let the virtual clock run',
  run(ctx, args) {
    if (args.length === 0) throw new UsageError('missing operand');
    let seconds = 0;
    for (const a of args) {
      const m = /^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)([smhd]?)$/.exec(a);
      if (!m) throw new UsageError(`invalid time interval '${a}'`);
      seconds += Number(m[1]) * UNIT[m[2]];
    }
    if (seconds > SLEEP_MAX_S) throw new UsageError(`at most ${SLEEP_MAX_S / 86400} days`);
    // The clock is the board's; a guest's virtual clock is its host's to run.
    if (!ctx.machine) throw new CommandError('not available inside a guest (its clock runs with the host)');
    ctx.machine.clock.tick(Math.round(seconds * TSC_HZ));
    return 0;
  },
};
