/**
 * The control registers a CPU's paging answers to (CR0, CR2, CR3), the privilege check
 * on the instructions that change them, and INVLPG: one place for the physical CPU
 * (cpu.ts) and the vCPU's guest state (vmx/guest_mmu.ts), which differ in how they
 * translate, not in these.
 *
 * - MOV to CR0/CR3 and INVLPG are privileged: #GP(0) at CPL > 0 (SDM Vol. 3A §2.5,
 *   §4.10.4.1). Writing CR3 flushes the TLB's non-global entries, writing CR0 all of
 *   them (this model flushes on any CR0 write rather than only on PG/WP/CD changes:
 *   stricter than the SDM requires, never looser), INVLPG one page.
 * - MOV to CR3 with a bit set at or above MAXPHYADDR raises #GP(0) (§4.5, "Reserved
 *   bits"; KeyID bits lie below MAXPHYADDR, so they are address bits here).
 * - A #PF writes the faulting linear address to CR2 and carries the SDM's error code
 *   (§4.7, Figure 4-12: P, W/R, U/S, I/D).
 */
import {
  Fault, X86_CR0_PG, X86_PF_INSTR, X86_PF_PROT, X86_PF_USER, X86_PF_WRITE, X86_TRAP_GP, X86_TRAP_PF,
} from './isa.js';
import type { MachineConfig } from './config.js';
import type { Access } from './mmu.js';
import type { Tlb } from './tlb.js';

export function checkCr3Write(value: number, maxPhysAddr: number): void {
  if (!Number.isSafeInteger(value) || value < 0 || value >= 2 ** maxPhysAddr) {
    throw new Fault(X86_TRAP_GP, 0, 0, 'CR3 reserved bits');
  }
}

export abstract class ControlRegisters {
  cpl: 0 | 3 = 0;
  protected cr0 = 0;
  protected cr2 = 0;
  protected cr3 = 0;

  constructor(protected readonly cfg: MachineConfig) {}

  /** The TLB these registers govern (the vCPU's is the physical CPU's it runs on). */
  protected abstract currentTlb(): Tlb;

  /** #GP(0) unless at CPL 0. */
  protected privileged(): void {
    if (this.cpl !== 0) throw new Fault(X86_TRAP_GP, 0, 0, 'privileged instruction at CPL 3');
  }

  readCr0(): number { return this.cr0; }
  writeCr0(value: number): void {
    this.privileged();
    this.cr0 = value >>> 0;
    this.currentTlb().flush(false);
  }
  readCr2(): number { return this.cr2; }
  readCr3(): number { return this.cr3; }
  writeCr3(value: number): void {
    this.privileged();
    checkCr3Write(value, this.cfg.cpu.maxPhysAddr);
    this.cr3 = value;
    this.currentTlb().flush(true);
  }
  invlpg(va: number): void {
    this.privileged();
    this.currentTlb().invalidatePage(va);
  }

  protected get paging(): boolean { return (this.cr0 & X86_CR0_PG) !== 0; }

  /** The #PF for an access at `va` (a permission failure when `present`), CR2 set. */
  protected pageFault(va: number, access: Access, present: boolean): Fault {
    this.cr2 = va;
    return new Fault(X86_TRAP_PF, (present ? X86_PF_PROT : 0) | (access === 'w' ? X86_PF_WRITE : 0) |
      (this.cpl === 3 ? X86_PF_USER : 0) | (access === 'x' ? X86_PF_INSTR : 0), va);
  }
}
