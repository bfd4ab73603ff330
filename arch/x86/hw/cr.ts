/**
 * Architectural checks on control-register writes, one place for the physical CPU
 * (cpu.ts) and the vCPU (vmx/guest_mmu.ts): MOV to CR3 with a bit set at or above
 * MAXPHYADDR raises #GP(0) (SDM Vol. 3A §4.5, "Reserved bits"; KeyID bits lie below
 * MAXPHYADDR, so they are address bits here).
 */
import { Fault, X86_TRAP_GP } from './isa.js';

export function checkCr3Write(value: number, maxPhysAddr: number): void {
  if (!Number.isSafeInteger(value) || value < 0 || value >= 2 ** maxPhysAddr) {
    throw new Fault(X86_TRAP_GP, 0, 0, 'CR3 reserved bits');
  }
}
