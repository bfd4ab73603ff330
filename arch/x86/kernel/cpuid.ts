/**
 * The CPUID driver (Linux arch/x86/kernel/cpuid.c, /dev/cpu/N/cpuid): CPUID with a
 * given leaf and subleaf, executed on a chosen CPU, for user-space tools. A CPU that
 * does not exist or is offline is -ENXIO.
 */
import type { CpuidRegs } from '../hw/isa.js';
import { cpu_waiting, cpuid_count, smp_call_function_single } from '../include/asm/processor.js';
import { cpu_online } from './smpboot.js';
import { EDEADLK, EINVAL, ENXIO } from '../../../kernel/errno.js';


/** cpuid_read(): the four registers, or err < 0. */
export function cpuid_read(cpu: number, leaf: number, subleaf: number): { err: number; regs: CpuidRegs } {
  const zero = { eax: 0, ebx: 0, ecx: 0, edx: 0 };
  if (!Number.isInteger(cpu) || cpu < 0 || !cpu_online(cpu)) return { err: -ENXIO, regs: zero };
  const u32 = (v: number): boolean => Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
  if (!u32(leaf) || !u32(subleaf)) return { err: -EINVAL, regs: zero };
  if (cpu_waiting(cpu)) return { err: -EDEADLK, regs: zero }; // a guest's IPI chain (asm/processor.ts)
  return { err: 0, regs: smp_call_function_single(cpu, () => cpuid_count(leaf, subleaf)) };
}
