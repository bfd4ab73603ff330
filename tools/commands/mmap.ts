/**
 * mmap: map LEN bytes of anonymous memory into the shell's process (mmap(2) with
 * addr 0, MAP_PRIVATE|MAP_ANONYMOUS, or MAP_SHARED|MAP_ANONYMOUS with `shared`), and
 * print the address the kernel chose (top-down below 0x7f0000000000).
 */
import { MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE, sys_mmap } from '../../mm/mmap.js';
import { UsageError, type Command } from '../registry.js';
import type { KernelShellContext } from '../context.js';
import { formatHex } from '../lib/parse.js';
import { as_task, check, nargs, parse_len, parse_prot } from '../lib/process.js';

export const mmapCommand: Command<KernelShellContext> = {
  name: 'mmap',
  usage: 'mmap LEN [PROT] [shared]',
  summary: 'map anonymous memory, print its address',
  help: 'PROT: letters from r, w, x (default rw) or none. LEN: 4096, 0x1000, 16K, 2M...',
  run(ctx, args, io) {
    nargs(args, 1, 3);
    const len = parse_len(args[0]);
    const rest = args.slice(1);
    let flags = MAP_PRIVATE | MAP_ANONYMOUS;
    if (rest[rest.length - 1] === 'shared') {
      flags = MAP_SHARED | MAP_ANONYMOUS;
      rest.pop();
    }
    if (rest.length > 1) throw new UsageError(`unexpected '${rest[1]}'`);
    const prot = rest.length ? parse_prot(rest[0]) : PROT_READ | PROT_WRITE;
    const addr = check(as_task(ctx, () => sys_mmap(0, len, prot, flags, -1, 0)));
    io.out(`${formatHex(addr)}\n`);
    return 0;
  },
};
