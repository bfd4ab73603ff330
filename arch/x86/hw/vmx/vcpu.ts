/**
 * A virtual CPU: the X86Cpu a guest runs on while its VMCS is in VMX non-root operation
 * on some physical CPU (isa.ts, "Execution model").
 *
 * Memory (guest paging, then EPT) is guest_mmu.ts. Without VPID every VM entry and
 * exit flushes the vCPU's combined translations (SDM §29.4.3.3).
 *
 * Exits: CPUID (10), HLT (12) with HLT exiting, I/O (30) with unconditional I/O exiting
 * or the I/O bitmaps, RDMSR/WRMSR (31/32) without MSR bitmaps or where the bitmap bit is
 * set, EPT violation (48) and misconfiguration (49), WBINVD (54) with WBINVD exiting,
 * PCONFIG (65) where PCONFIG_EXITING says so. PCONFIG with secondary control 27 clear is
 * #UD. An instruction checks its own faults (#GP at CPL 3, ...) before it exits.
 */
import {
  CPU_BASED_ACTIVATE_SECONDARY_CONTROLS, CPU_BASED_HLT_EXITING, CPU_BASED_UNCOND_IO_EXITING,
  CPU_BASED_USE_IO_BITMAPS, CPU_BASED_USE_MSR_BITMAPS, CPU_BASED_VM_EXEC_CONTROL, EPT_POINTER,
  EXIT_QUALIFICATION, EXIT_REASON_CPUID, EXIT_REASON_HLT, EXIT_REASON_IO_INSTRUCTION, EXIT_REASON_MSR_READ,
  EXIT_REASON_MSR_WRITE, EXIT_REASON_PCONFIG, EXIT_REASON_TRIPLE_FAULT, EXIT_REASON_WBINVD, Fault,
  GUEST_ACTIVITY_ACTIVE, GUEST_ACTIVITY_HLT, GUEST_ACTIVITY_SHUTDOWN, GUEST_ACTIVITY_STATE, GUEST_CR0, GUEST_CR3,
  GUEST_IDTR_BASE, GUEST_IDTR_LIMIT, GUEST_LINEAR_ADDRESS, GUEST_PHYSICAL_ADDRESS, GUEST_RIP,
  HOST_CR3, HOST_RIP, INTR_INFO_DELIVER_CODE_MASK, INTR_INFO_VALID_MASK, IO_BITMAP_A, IO_BITMAP_B,
  IO_QUAL_IN, IO_QUAL_PORT_SHIFT, MSR_BITMAP, PCONFIG_EXITING, SECONDARY_EXEC_ENABLE_EPT,
  SECONDARY_EXEC_ENABLE_PCONFIG, SECONDARY_EXEC_ENABLE_VPID, SECONDARY_EXEC_WBINVD_EXITING,
  SECONDARY_VM_EXEC_CONTROL, TSC_OFFSET, VIRTUAL_PROCESSOR_ID, VM_ENTRY_EXCEPTION_ERROR_CODE,
  VM_ENTRY_INTR_INFO_FIELD, VM_EXIT_INSTRUCTION_LEN, VM_EXIT_REASON, VmShutdown, X86_TRAP_PF, X86_TRAP_UD,
  type CodeAddr, type CpuidRegs, type GuestRegs, type PconfigResult, type Routine, type VmxPendingAccess,
  type X86Cpu,
} from '../isa.js';
import type { MachineConfig } from '../config.js';
import type { Tlb } from '../tlb.js';
import { eptRoot } from './ept.js';
import { GuestMmu, type HostCpu } from './guest_mmu.js';
import type { VmcsInfo, VmxPlatform } from './platform.js';
import type { VmcsData } from './vmcs.js';

export type { HostCpu } from './guest_mmu.js';

/** A VM exit plus the VM entry back, in cycles (order of Ice Lake figures). */
export const VMEXIT_CYCLES = 1000;

/** What the VMX unit of the physical CPU provides to the vCPU running on it. */
interface Unit {
  current: number;
  cur: VmcsData | null;
  nonRoot: GuestCpu | null;
  guestTlb(vpid: number, root: number): Tlb;
}

/** A host exit handler's exception, carried through guest frames and rethrown to the host. */
class HostError { constructor(readonly inner: unknown) {} }

export class GuestCpu extends GuestMmu implements X86Cpu {
  private unit: Unit | null = null;
  private vmcs = -1;
  private tlbOf: Unit | null = null;
  private tlbVpid = -1;
  private tlbRoot = -1;
  /** The VMCS data the processor holds for our VMCS. */
  private data: VmcsData | null = null;
  private idtBase = 0;
  private idtLimit = 0;
  private rip = 0;
  private activity = GUEST_ACTIVITY_ACTIVE;
  private primary = 0;
  private domain = -1;
  private vpid = 0;
  private dead: string | null = null;
  private hostError: HostError | null = null;

  /** Position among its VM's vCPUs, in the order they first entered (the order a guest
   *  kernel brings them up: the BSP first, then each AP at its first IPI). */
  readonly index: number;

  constructor(private readonly info: VmcsInfo, private readonly platform: VmxPlatform, cfg: MachineConfig, index: number) {
    super(cfg);
    this.index = index;
  }


  // --- entry and exit --------------------------------------------------------------

  /** VM entry on `host` (its VMX unit has checked the VMCS). Returns at the VM exit that
   *  ends the entry: the outermost halt or a shutdown. Rethrows a host handler's error. */
  run(host: HostCpu, unit: Unit): void {
    this.host = host;
    this.unit = unit;
    this.vmcs = unit.current;
    this.data = unit.cur;
    this.dead = null;
    this.hostError = null;
    this.load();
    let reason = EXIT_REASON_HLT;
    try {
      this.injectAtEntry(true);
      if (!this.dead && this.activity === GUEST_ACTIVITY_ACTIVE && this.rip !== 0) {
        const code = this.platform.text.lookup(this.rip, this.domain);
        if (!code) this.shutdown('GUEST_RIP is not code of this guest');
        code.routine(this);
      }
    } catch (e) {
      if (e instanceof HostError) this.hostError = e;
      else this.dead ??= e instanceof Error ? e.message : String(e);
    }
    if (this.hostError || this.dead) reason = EXIT_REASON_TRIPLE_FAULT;
    if (reason === EXIT_REASON_HLT) { this.rip = 0; this.activity = GUEST_ACTIVITY_HLT; } else {
      this.activity = GUEST_ACTIVITY_SHUTDOWN;
    }
    this.store(reason, 0, 0, 0);
    this.leave();
    if (this.hostError) throw this.hostError.inner;
  }

  /** Why the guest last shut down (diagnostics for the host), or null. */
  get shutdownReason(): string | null { return this.dead; }

  private get(field: number): number { return this.data!.get(field); }
  private set(field: number, v: number): void { this.data!.set(field, v); }

  /** Load guest state and the controls from the VMCS. */
  private load(): void {
    this.primary = this.get(CPU_BASED_VM_EXEC_CONTROL);
    this.secondary = this.primary & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS ? this.get(SECONDARY_VM_EXEC_CONTROL) : 0;
    const ept = (this.secondary & SECONDARY_EXEC_ENABLE_EPT) !== 0;
    this.eptp = ept ? this.get(EPT_POINTER) : 0;
    this.domain = ept ? eptRoot(this.eptp) : -1;
    this.vpid = this.secondary & SECONDARY_EXEC_ENABLE_VPID ? this.get(VIRTUAL_PROCESSOR_ID) : 0;
    this.cr0 = this.get(GUEST_CR0);
    this.cr3 = this.get(GUEST_CR3);
    this.idtBase = this.get(GUEST_IDTR_BASE);
    this.idtLimit = this.get(GUEST_IDTR_LIMIT);
    this.rip = this.get(GUEST_RIP);
    this.activity = this.get(GUEST_ACTIVITY_STATE);
    // INVEPT flushes the TLB objects in place, so the last one for this (CPU, VPID, EPT root) stays valid.
    if (this.tlbOf !== this.unit || this.tlbVpid !== this.vpid || this.tlbRoot !== this.domain) {
      this.tlb = this.unit!.guestTlb(this.vpid, this.domain);
      this.tlbOf = this.unit;
      this.tlbVpid = this.vpid;
      this.tlbRoot = this.domain;
    }
    if (this.vpid === 0) this.tlb!.flush(false);
    this.unit!.nonRoot = this;
  }

  /** Save guest state and the exit information; back to VMX root operation. */
  private store(reason: number, qual: number, gpa: number, gla: number): void {
    this.set(VM_EXIT_REASON, reason);
    this.set(EXIT_QUALIFICATION, qual);
    this.set(GUEST_PHYSICAL_ADDRESS, gpa);
    this.set(GUEST_LINEAR_ADDRESS, gla);
    this.set(VM_EXIT_INSTRUCTION_LEN, reason === EXIT_REASON_TRIPLE_FAULT || reason === EXIT_REASON_HLT ? 0 : 1);
    this.set(GUEST_CR0, this.cr0);
    this.set(GUEST_CR3, this.cr3);
    this.set(GUEST_IDTR_BASE, this.idtBase);
    this.set(GUEST_IDTR_LIMIT, this.idtLimit);
    this.set(GUEST_RIP, this.rip);
    this.set(GUEST_ACTIVITY_STATE, this.activity);
  }

  private leave(): void {
    if (this.vpid === 0) this.tlb?.flush(false);
    this.unit!.nonRoot = null;
    this.host!.loadHostCr3(this.get(HOST_CR3));
    this.host!.cpl = 0;
    this.host!.tick(VMEXIT_CYCLES / 2);
  }

  /**
   * A VM exit in the middle of a guest instruction: the host's HOST_RIP routine runs on
   * the physical CPU; its return is VMRESUME, after which the instruction goes on (or
   * takes the exception the host injected).
   */
  protected exit(reason: number, qual = 0, gpa = 0, gla = 0): void {
    this.alive();
    const host = this.host!;
    const unit = this.unit!;
    const vmcs = this.vmcs;
    this.store(reason, qual, gpa, gla);
    this.leave();
    const handler = this.platform.text.lookup(this.get(HOST_RIP), 0);
    try {
      handler!.routine(host);
    } catch (e) {
      this.hostError = new HostError(e);
      this.dead = 'host exit handler failed';
      throw this.hostError;
    }
    host.tick(VMEXIT_CYCLES / 2);
    if (unit.current !== vmcs) this.shutdown('VMRESUME with another current VMCS');
    this.data = unit.cur;
    this.load();
    if (this.activity === GUEST_ACTIVITY_SHUTDOWN) this.shutdown('shut down by the host');
    this.activity = GUEST_ACTIVITY_ACTIVE;
    this.injectAtEntry(false);
  }

  protected alive(): void {
    if (this.hostError) throw this.hostError;
    if (this.dead) throw new VmShutdown(this.dead);
    if (!this.unit || this.unit.nonRoot !== this) {
      throw new Fault(X86_TRAP_UD, 0, 0, 'vCPU is not in VMX non-root operation');
    }
  }

  protected shutdown(why: string): never {
    this.dead = why;
    throw new VmShutdown(why);
  }

  /** Event injection at VM entry (SDM §27.6). A hardware exception injected while a
   *  guest instruction is in progress is that instruction's fault. */
  private injectAtEntry(outermost: boolean): void {
    const info = this.get(VM_ENTRY_INTR_INFO_FIELD);
    if (!(info & INTR_INFO_VALID_MASK)) return;
    this.set(VM_ENTRY_INTR_INFO_FIELD, (info & ~INTR_INFO_VALID_MASK) >>> 0);
    const vector = info & 0xff;
    const type = (info >>> 8) & 7;
    if (type === 3 && !outermost) {
      const code = info & INTR_INFO_DELIVER_CODE_MASK ? this.get(VM_ENTRY_EXCEPTION_ERROR_CODE) : 0;
      if (vector === X86_TRAP_PF) this.cr2 = this.get(GUEST_LINEAR_ADDRESS);
      throw new Fault(vector, code, 0, 'injected by the hypervisor');
    }
    this.deliver(vector);
  }

  /** Deliver `vector` through the guest IDT and run its handler (return = IRET). */
  private deliver(vector: number): void {
    if (vector * 16 + 15 > this.idtLimit) this.shutdown(`vector ${vector} beyond the IDT limit`);
    const gate = new Uint8Array(16);
    const savedCpl = this.cpl;
    this.cpl = 0;
    try {
      this.read(this.idtBase + vector * 16, gate);
    } catch (e) {
      if (e instanceof Fault) this.shutdown(`IDT read: ${e.toString()}`);
      throw e;
    } finally { this.cpl = savedCpl; }
    const dv = new DataView(gate.buffer);
    const hi = dv.getUint32(4, true);
    const type = (hi >>> 8) & 0xf;
    if (!(hi & 0x8000) || (type !== 0xe && type !== 0xf)) this.shutdown(`IDT gate ${vector} not present`);
    const offset = (dv.getUint32(0, true) & 0xffff) + (hi >>> 16) * 65536 + dv.getUint32(8, true) * 4294967296;
    const code = this.platform.text.lookup(offset, this.domain);
    if (!code) this.shutdown(`IDT gate ${vector}: no guest code at ${offset}`);
    const savedActivity = this.activity;
    this.cpl = 0;
    this.activity = GUEST_ACTIVITY_ACTIVE;
    try {
      code.routine(this);
    } finally {
      this.cpl = savedCpl;
      this.activity = savedActivity;
    }
  }

  // --- identification, MSRs, PCONFIG, HLT, port I/O ------------------------------------

  private regs(): GuestRegs { return this.info.regs; }

  cpuid(leaf: number, subleaf = 0): CpuidRegs {
    this.alive();
    const r = this.regs();
    r.rax = leaf >>> 0;
    r.rcx = subleaf >>> 0;
    this.exit(EXIT_REASON_CPUID);
    return { eax: r.rax % 4294967296 >>> 0, ebx: r.rbx % 4294967296 >>> 0, ecx: r.rcx % 4294967296 >>> 0, edx: r.rdx % 4294967296 >>> 0 };
  }

  /** Does an access to `msr` exit? (SDM §25.6.9: the four 1 KiB MSR-bitmap quarters.) */
  private msrExits(msr: number, write: boolean): boolean {
    if (!(this.primary & CPU_BASED_USE_MSR_BITMAPS)) return true;
    let base: number;
    if (msr >= 0 && msr <= 0x1fff) base = 0;
    else if (msr >= 0xc0000000 && msr <= 0xc0001fff) { base = 0x400; msr -= 0xc0000000; } else return true;
    const bitmap = this.get(MSR_BITMAP);
    const byte = base + (write ? 0x800 : 0) + (msr >>> 3);
    const word = this.host!.phys32(bitmap + byte - (byte % 4));
    return ((word >>> ((byte % 4) * 8 + (msr & 7))) & 1) !== 0;
  }

  rdmsr(msr: number): bigint {
    this.privileged();
    if (!this.msrExits(msr, false)) return this.host!.msrRead(msr);
    const r = this.regs();
    r.rcx = msr >>> 0;
    this.exit(EXIT_REASON_MSR_READ);
    return (BigInt(r.rdx % 4294967296 >>> 0) << 32n) | BigInt(r.rax % 4294967296 >>> 0);
  }

  wrmsr(msr: number, value: bigint): void {
    this.privileged();
    if (!this.msrExits(msr, true)) { this.host!.msrWrite(msr, value); return; }
    const r = this.regs();
    r.rcx = msr >>> 0;
    r.rax = Number(value & 0xffffffffn);
    r.rdx = Number((value >> 32n) & 0xffffffffn);
    this.exit(EXIT_REASON_MSR_WRITE);
  }

  pconfig(leaf: number, rbx: number): PconfigResult {
    this.alive();
    if (!(this.secondary & SECONDARY_EXEC_ENABLE_PCONFIG)) {
      throw new Fault(X86_TRAP_UD, 0, 0, 'PCONFIG in VMX non-root operation with "enable PCONFIG" clear');
    }
    if (this.data!.bit(PCONFIG_EXITING, Math.min(leaf >>> 0, 63))) {
      const r = this.regs();
      r.rax = leaf >>> 0;
      r.rbx = rbx;
      this.exit(EXIT_REASON_PCONFIG);
      return { rax: r.rax % 4294967296 >>> 0, zf: (r.rflags & 0x40) !== 0 };
    }
    return this.host!.pconfigWith(leaf, rbx, this.cpl, (va, len) => { const b = new Uint8Array(len); this.read(va, b); return b; });
  }

  rdtsc(): number {
    this.alive();
    return this.host!.rdtsc() + (this.primary & (1 << 3) ? this.get(TSC_OFFSET) : 0);
  }

  hlt(): void {
    this.privileged();
    if (this.primary & CPU_BASED_HLT_EXITING) this.exit(EXIT_REASON_HLT);
  }

  private ioExits(port: number, size: number): boolean {
    if (this.primary & CPU_BASED_USE_IO_BITMAPS) {
      for (let p = port; p < port + size; p++) {
        const q = p & 0xffff;
        const bitmap = this.get(q < 0x8000 ? IO_BITMAP_A : IO_BITMAP_B);
        const byte = (q & 0x7fff) >>> 3;
        const word = this.host!.phys32(bitmap + byte - (byte % 4));
        if ((word >>> ((byte % 4) * 8 + (q & 7))) & 1) return true;
      }
      return false;
    }
    return (this.primary & CPU_BASED_UNCOND_IO_EXITING) !== 0;
  }

  private portIn(port: number, size: 1 | 2 | 4): number {
    this.privileged();
    port &= 0xffff;
    if (!this.ioExits(port, size)) return this.platform.io.read(port, size);
    const r = this.regs();
    this.exit(EXIT_REASON_IO_INSTRUCTION, (size - 1) | IO_QUAL_IN | port * 2 ** IO_QUAL_PORT_SHIFT);
    const mask = size === 4 ? 4294967296 : 2 ** (8 * size);
    return r.rax % mask;
  }

  private portOut(port: number, size: 1 | 2 | 4, value: number): void {
    this.privileged();
    port &= 0xffff;
    const v = (value >>> 0) % (size === 4 ? 4294967296 : 2 ** (8 * size));
    if (!this.ioExits(port, size)) { this.platform.io.write(port, size, v); return; }
    this.regs().rax = v;
    this.exit(EXIT_REASON_IO_INSTRUCTION, (size - 1) | port * 2 ** IO_QUAL_PORT_SHIFT);
  }

  inb(port: number): number { return this.portIn(port, 1); }
  inw(port: number): number { return this.portIn(port, 2); }
  inl(port: number): number { return this.portIn(port, 4); }
  outb(port: number, v: number): void { this.portOut(port, 1, v); }
  outw(port: number, v: number): void { this.portOut(port, 2, v); }
  outl(port: number, v: number): void { this.portOut(port, 4, v); }

  lidt(base: number, limit: number): void {
    this.privileged();
    this.idtBase = base;
    this.idtLimit = limit & 0xffff;
  }

  registerCode(routine: Routine, name = routine.name): CodeAddr {
    this.alive();
    return this.platform.text.register(routine, name, this.domain);
  }

  wbinvd(): void {
    this.privileged();
    if (this.secondary & SECONDARY_EXEC_WBINVD_EXITING) this.exit(EXIT_REASON_WBINVD);
    else this.host!.wbinvdPhys();
  }

  // --- VMX instructions: nested VMX is not offered ---------------------------------------

  private noVmx(): never { this.alive(); throw new Fault(X86_TRAP_UD, 0, 0, 'VMX instruction in a guest'); }
  vmxon(): number { return this.noVmx(); }
  vmxoff(): number { return this.noVmx(); }
  vmclear(): number { return this.noVmx(); }
  vmptrld(): number { return this.noVmx(); }
  vmptrst(): number { return this.noVmx(); }
  vmread(): number { return this.noVmx(); }
  vmwrite(): number { return this.noVmx(); }
  vmlaunch(): number { return this.noVmx(); }
  vmresume(): number { return this.noVmx(); }
  invept(): number { return this.noVmx(); }
  vmxGuestRegs(): GuestRegs { return this.noVmx(); }
  vmxPendingAccess(): VmxPendingAccess | null { return this.noVmx(); }
}

