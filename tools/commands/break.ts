/**
 * break [N] and continue [N]: leave, or start the next pass of, the N-th enclosing for,
 * while or until loop (POSIX XCU 2.14 break, continue). N larger than the number of
 * loops means the outermost; outside a loop they do nothing.
 */
import { LoopControl, UsageError, type Command } from '../registry.js';

function loopControl(kind: 'break' | 'continue'): Command<unknown> {
  return {
    name: kind,
    usage: `${kind} [N]`,
    summary: kind === 'break' ? 'leave the enclosing loop(s)' : 'start the next pass of the enclosing loop',
    run(_ctx, args, _io, sh) {
      if (args.length > 1) throw new UsageError('too many arguments');
      const n = args.length ? Number(args[0]) : 1;
      if (!/^[0-9]+$/.test(args[0] ?? '1') || n < 1) throw new UsageError(`N must be a positive number, not '${args[0]}'`);
      if (sh.loopDepth === 0) return 0;
      throw new LoopControl(kind, Math.min(n, sh.loopDepth));
    },
  };
}

export const breakCommand = loopControl('break');
export const continueCommand = loopControl('continue');
