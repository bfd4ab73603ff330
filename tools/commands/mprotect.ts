/**
 * mprotect: change the protection of [ADDR, ADDR+LEN) in the shell's process
 * (mprotect(2)); every page keeps its KeyID.
 */
import { sys_mprotect } from '../../mm/mprotect.js';
import { type Command } from '../registry.js';
import type { KernelShellContext } from '../context.js';
import { as_task, check, nargs, parse_addr, parse_len, parse_prot } from '../lib/process.js';

export const mprotectCommand: Command<KernelShellContext> = {
  name: 'mprotect',
  usage: 'mprotect ADDR LEN PROT',
  summary: 'change memory protection',
  help: 'PROT: letters from r, w, x, or none.',
  run(ctx, args) {
    nargs(args, 3, 3);
    const addr = parse_addr(args[0]);
    const len = parse_len(args[1]);
    const prot = parse_prot(args[2]);
    check(as_task(ctx, () => sys_mprotect(addr, len, prot)));
    return 0;
  },
};
