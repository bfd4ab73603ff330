/**
 * mmap: map LEN bytes of anonymous memory into the shell's process (mmap(2) with
 * addr 0, MAP_PRIVATE|MAP_ANONYMOUS, or MAP_SHARED|MAP_ANONYMOUS with `shared`), and
 * print the address the kernel chose (top-down below 0x7f0000000000). `shm=/NAME`
 * maps a POSIX shared-memory object instead, as shm_open(NAME, O_CREAT|O_RDWR) +
 * ftruncate (grown to LEN if smaller) + mmap(MAP_SHARED) would: every process mapping
 * the same NAME gets the same pages, under the object's KeyID (mm/shmem.ts).
 */
import { MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE, sys_mmap, sys_mmap_shm } from '../../mm/mmap.js';
import { O_CREAT, O_RDWR, shm_open, shmem_truncate } from '../../mm/shmem.js';
import { UsageError, type Command } from '../registry.js';
import type { KernelShellContext } from '../context.js';
import { formatHex } from '../lib/parse.js';
import { as_task, check, nargs, parse_len, parse_prot } from '../lib/process.js';

export const mmapCommand: Command<KernelShellContext> = {
  name: 'mmap',
  usage: 'mmap LEN [PROT] [shared|shm=/NAME]',
  summary: 'map anonymous memory, print its address',
  help: 'PROT: letters from r, w, x (default rw) or none. LEN: 4096, 0x1000, 16K, 2M...',
  run(ctx, args, io) {
    nargs(args, 1, 3);
    const len = parse_len(args[0]);
    const rest = args.slice(1);
    let flags = MAP_PRIVATE | MAP_ANONYMOUS;
    let shm: string | null = null;
    const last = rest[rest.length - 1];
    if (last === 'shared') {
      flags = MAP_SHARED | MAP_ANONYMOUS;
      rest.pop();
    } else if (last?.startsWith('shm=')) {
      shm = last.slice(4);
      flags = MAP_SHARED;
      rest.pop();
    }
    if (rest.length > 1) throw new UsageError(`unexpected '${rest[1]}'`);
    const prot = rest.length ? parse_prot(rest[0]) : PROT_READ | PROT_WRITE;
    const addr = check(as_task(ctx, () => {
      if (shm === null) return sys_mmap(0, len, prot, flags, -1, 0);
      const file = shm_open(shm, O_CREAT | O_RDWR);
      if (typeof file === 'number') return file;
      if (file.size < len) {
        const err = shmem_truncate(file, len);
        if (err) return err;
      }
      return sys_mmap_shm(0, len, prot, flags, file, 0);
    }));
    io.out(`${formatHex(addr)}\n`);
    return 0;
  },
};
