/**
 * What the built-in benchmark programs (stream, lat_mem_rd, loop) share: they run as the
 * shell's process, in user mode, on memory they map themselves (mmap, and with `-k
 * SERIAL` encrypt_mprotect to an mktme key, as a tenant would), and they time themselves
 * with the TSC: the machine's virtual clock (arch/x86/hw/timing.ts), not the host's.
 * The mapping is unmapped when the program ends, however it ends.
 */
import { TSC_HZ } from '../../arch/x86/hw/clock.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE, sys_mmap, sys_munmap } from '../../mm/mmap.js';
import { sys_encrypt_mprotect } from '../../mm/mprotect.js';
import { user_read, user_write } from '../../mm/uaccess.js';
import type { task_struct } from '../../kernel/sched.js';
import type { KernelShellContext } from '../context.js';
import { this_cpu } from '../../arch/x86/include/asm/processor.js';
import { CommandError, UsageError } from '../registry.js';
import { as_task, check, shell_task } from './process.js';
import { parseNumber } from './parse.js';

const PAGE = 4096;

/** The program's memory: `len` bytes at `va` in the shell's task. */
export interface Arena {
  va: number;
  len: number;
  tsk: task_struct;
}

/** A process that died in the program (SIGSEGV...), reported by the caller. */
export class WorkloadKilled extends Error {}

/** Map `len` bytes (rounded up to pages) rw, under the mktme key `serial` if given. */
function map_arena(ctx: KernelShellContext, len: number, serial: number | null): Arena {
  const size = Math.ceil(len / PAGE) * PAGE;
  const va = check(as_task(ctx, () => sys_mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)));
  if (serial !== null) {
    const r = as_task(ctx, () => sys_encrypt_mprotect(va, size, PROT_READ | PROT_WRITE, serial));
    if (r < 0) {
      as_task(ctx, () => sys_munmap(va, size));
      check(r);
    }
  }
  return { va, len: size, tsk: shell_task(ctx) };
}

function unmap_arena(ctx: KernelShellContext, a: Arena): void {
  if (!a.tsk.exit_state) as_task(ctx, () => sys_munmap(a.va, a.len));
}

/** User-mode loads of `len` bytes at arena offset `off`. */
export function uload(a: Arena, off: number, len: number): Uint8Array {
  const r = user_read(a.tsk, a.va + off, len);
  if (!r.ok) throw new WorkloadKilled();
  return r.value;
}

/** User-mode stores at arena offset `off`. */
export function ustore(a: Arena, off: number, bytes: Uint8Array): void {
  if (!user_write(a.tsk, a.va + off, bytes).ok) throw new WorkloadKilled();
}

/**
 * RDTSC as the program sees it: the machine's virtual cycles, read by the instruction on
 * the CPU the process runs on (user mode may: CR4.TSD is clear). In a guest that is the
 * vCPU, whose TSC is the host's plus the VMCS TSC offset: no exit, no board needed.
 */
export function rdtsc(_ctx: KernelShellContext): number { return this_cpu().rdtsc(); }

/** Virtual cycles to seconds. */
export function seconds(cycles: number): number { return cycles / TSC_HZ; }

/** `-k SERIAL`: an mktme key serial (decimal or 0x hex). */
export function parse_serial(s: string): number {
  const r = parseNumber(s);
  if (!r.ok || r.value >= 2 ** 31) throw new UsageError(`-k: not a key serial: '${s}'`);
  return r.value;
}

/** Run `body` on a fresh arena and unmap it afterwards; a killed process becomes an error. */
export function with_arena<T>(ctx: KernelShellContext, len: number, serial: number | null, body: (a: Arena) => T): T {
  const a = map_arena(ctx, len, serial);
  try {
    return body(a);
  } catch (e) {
    if (e instanceof WorkloadKilled) throw new CommandError('the process was killed');
    throw e;
  } finally {
    unmap_arena(ctx, a);
  }
}
