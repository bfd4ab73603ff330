/**
 * The architectural contract, continued: VMX (SDM Vol. 3C, chapters 24-30) and the
 * guest-side instruction surface. isa.ts re-exports all of this, so kernel code still
 * imports isa.ts alone; the X86Cpu members below join the interface declared there
 * (a module augmentation).
 */
import type { X86Cpu } from './isa.js';

/**
 * Execution model of this emulator (read this before coding a guest kernel or a VMM).
 *
 * Code is TypeScript, so "instructions" are method calls on an X86Cpu and "code" is a set
 * of routines. A **code address** (`CodeAddr`) is a handle into the machine's text table,
 * returned by `registerCode(routine)`. Handles are non-zero; 0 is never code. Each handle
 * belongs to a *code domain*: the host (registered on a physical CPU), or one VM, named
 * by the root table address of its EPT (registered from inside the guest on its vCPU, or
 * by the host for the VM with `registerCode(routine, name, eptp)`, the stand-in for
 * copying an image's text into guest RAM). A CPU in VMX non-root operation only runs
 * code of its own VM's domain; a host handle in GUEST_RIP or in a guest IDT gate is a
 * bad address to the guest (#GP during delivery: the guest shuts down).
 *
 * Guest side (a vCPU, the `cpu` argument every guest routine receives):
 *  - The vCPU implements the whole X86Cpu interface. Its memory accesses go through the
 *    guest's IA paging (guest CR0/CR3) and then EPT; its guest-physical addresses carry
 *    no KeyID. Its CPUID, HLT, IN/OUT, RDMSR/WRMSR, WBINVD, PCONFIG and EPT faults are
 *    VM exits when the VMCS controls say so.
 *  - A VM exit in the middle of a guest instruction (an OUT inside printk, an EPT
 *    violation inside a store, a CPUID) is delivered *synchronously*: the physical CPU
 *    saves guest state in the VMCS, loads host state and calls the host routine at
 *    HOST_RIP with the physical CPU as argument. When that routine returns, the CPU
 *    executes VMRESUME: the guest instruction then completes (an IN returns the RAX the
 *    host left in `vmxGuestRegs()`, a CPUID returns RAX..RDX, a faulting access is
 *    retried through EPT), or, if the host injected a hardware exception
 *    (VM_ENTRY_INTR_INFO_FIELD type 3), the instruction raises that exception: the
 *    method throws a `Fault`, which the guest kernel's own handlers catch as they catch
 *    #GP/#PF on bare metal. Nothing unwinds guest code midway, except a guest that shuts
 *    down (triple fault, or the host setting GUEST_ACTIVITY_STATE to shutdown in such a
 *    handler): then a `VmShutdown` is thrown through the guest's frames.
 *  - A routine started by VM entry itself (the one at GUEST_RIP, or an interrupt handler
 *    delivered to a halted vCPU at VMLAUNCH/VMRESUME) runs to completion. Its return,
 *    with no guest frame below it, is the guest's **outermost halt**: the idle loop's HLT
 *    with nothing left to run. The vCPU enters the HLT activity state
 *    (GUEST_RIP becomes 0, "the idle loop"), and the VM exit (reason 12, HLT) is delivered
 *    by *returning from VMLAUNCH/VMRESUME* instead of calling HOST_RIP. So KVM_RUN can
 *    return to the VMM there. A `hlt()` call inside a routine is an ordinary HLT exit to
 *    HOST_RIP: if the host injects an interrupt its handler runs before hlt() returns.
 *  - Interrupt delivery: a vector injected with VM_ENTRY_INTR_INFO_FIELD (type 0,
 *    external interrupt) is delivered at the next VM entry through the guest's IDT
 *    (`lidt(base, limit)`; GUEST_IDTR_BASE/LIMIT): gate `vector` is read from guest
 *    memory (16 bytes, interrupt gate: P bit 47, type 0xE in bits 43:40, offset = the
 *    handler's code address in bits 15:0 | 63:48 | 95:64), and the handler routine runs;
 *    its return is IRET, back to where the vCPU was (halted, or inside hlt()).
 *  - Guest exceptions that the guest code does not catch, and any error escaping a guest
 *    routine, are a triple fault: exit reason 2, delivered by returning from VMLAUNCH.
 *    Nothing a guest does throws out of VMLAUNCH/VMRESUME into the host.
 *
 * Host side: VMXON, VMCLEAR, VMPTRLD, VMREAD/VMWRITE, VMLAUNCH/VMRESUME, INVEPT at CPL 0
 * (#GP(0) at CPL 3; #UD outside VMX operation, and in VMX non-root operation, where
 * nested VMX is not offered). Results follow SDM §31.2 conventions as numbers:
 * `VMX_SUCCEED` (0), `VMX_FAIL_INVALID` (-1), or a positive VM-instruction error number
 * (VMfailValid; also stored in the current VMCS's VM_INSTRUCTION_ERROR). The VMXON region
 * and every VMCS are 4 KiB regions in emulated memory, read and written through the
 * caches at their physical address, KeyID bits included; the physical addresses held in
 * VMCS fields (EPT_POINTER, MSR_BITMAP, IO_BITMAP_A/B, ...) likewise take their KeyID
 * from their upper address bits. As on hardware (SDM §25.11), an active VMCS is cached
 * in the processor: VMPTRLD reads the region, VMCLEAR writes it back; VMCLEAR a VMCS
 * before loading it on another CPU or reading its memory. Fields never written read 0
 * only if the region was zeroed (as Linux's alloc_vmcs_cpu does).
 *
 * Combined (guest-linear to host-physical) translations are cached per (VPID, EPT root)
 * on each physical CPU: keep VPID on (SECONDARY_EXEC_ENABLE_VPID, a non-zero
 * VIRTUAL_PROCESSOR_ID) or every VM entry and exit flushes them; after changing an EPT
 * entry, INVEPT on every CPU that may cache it (INVEPT is per logical processor). A vCPU's
 * `index` is its position among its VM's vCPUs in the order they first entered.
 */
export type CodeAddr = number;
/** A routine of guest or host code; `cpu` is the (v)CPU it runs on. */
export type Routine = (cpu: X86Cpu) => void;

/** Thrown through a guest's frames only when that guest shuts down (see above). */
export class VmShutdown extends Error {
  constructor(readonly why: string) { super(`VM shutdown: ${why}`); this.name = 'VmShutdown'; }
}

/** VMX instruction results (SDM Vol. 3C §31.2). */
export const VMX_SUCCEED = 0;
export const VMX_FAIL_INVALID = -1;

/** VM-instruction error numbers (SDM Vol. 3C §31.4) that this machine reports. */
export const VMXERR_VMCLEAR_INVALID_ADDRESS = 2;
export const VMXERR_VMCLEAR_VMXON_POINTER = 3;
export const VMXERR_VMLAUNCH_NONCLEAR_VMCS = 4;
export const VMXERR_VMRESUME_NONLAUNCHED_VMCS = 5;
export const VMXERR_ENTRY_INVALID_CONTROL_FIELD = 7;
export const VMXERR_ENTRY_INVALID_HOST_STATE_FIELD = 8;
export const VMXERR_VMPTRLD_INVALID_ADDRESS = 9;
export const VMXERR_VMPTRLD_VMXON_POINTER = 10;
export const VMXERR_VMPTRLD_INCORRECT_VMCS_REVISION_ID = 11;
export const VMXERR_UNSUPPORTED_VMCS_COMPONENT = 12;
export const VMXERR_VMWRITE_READ_ONLY_VMCS_COMPONENT = 13;
export const VMXERR_VMXON_IN_VMX_ROOT_OPERATION = 15;
export const VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID = 28;

/** IA32_VMX_BASIC[30:0]: the VMCS revision identifier software writes at offset 0. */
export const VMCS_REVISION_ID = 0x4;

/**
 * VMCS field encodings (SDM Vol. 3C Appendix B; Linux arch/x86/include/asm/vmx.h
 * `enum vmcs_field`). Bits 14:13 of an encoding give the width (0 16-bit, 1 64-bit,
 * 2 32-bit, 3 natural), bits 11:10 the type (0 control, 1 exit information, 2 guest
 * state, 3 host state). Only these fields exist on this machine; any other encoding
 * gives VMfailValid(12).
 */
export const VIRTUAL_PROCESSOR_ID = 0x0000;
export const GUEST_CS_SELECTOR = 0x0802;
export const HOST_CS_SELECTOR = 0x0c02;
export const IO_BITMAP_A = 0x2000;
export const IO_BITMAP_B = 0x2002;
export const MSR_BITMAP = 0x2004;
export const VM_EXIT_MSR_STORE_ADDR = 0x2006;
export const VM_EXIT_MSR_LOAD_ADDR = 0x2008;
export const VM_ENTRY_MSR_LOAD_ADDR = 0x200a;
export const TSC_OFFSET = 0x2010;
export const VIRTUAL_APIC_PAGE_ADDR = 0x2012;
export const APIC_ACCESS_ADDR = 0x2014;
export const EPT_POINTER = 0x201a;
export const PCONFIG_EXITING = 0x203e;
export const GUEST_PHYSICAL_ADDRESS = 0x2400;
export const VMCS_LINK_POINTER = 0x2800;
export const GUEST_IA32_EFER = 0x2806;
export const PIN_BASED_VM_EXEC_CONTROL = 0x4000;
export const CPU_BASED_VM_EXEC_CONTROL = 0x4002;
export const EXCEPTION_BITMAP = 0x4004;
export const VM_EXIT_CONTROLS = 0x400c;
export const VM_ENTRY_CONTROLS = 0x4012;
export const VM_ENTRY_INTR_INFO_FIELD = 0x4016;
export const VM_ENTRY_EXCEPTION_ERROR_CODE = 0x4018;
export const VM_ENTRY_INSTRUCTION_LEN = 0x401a;
export const SECONDARY_VM_EXEC_CONTROL = 0x401e;
export const VM_INSTRUCTION_ERROR = 0x4400;
export const VM_EXIT_REASON = 0x4402;
export const VM_EXIT_INTR_INFO = 0x4404;
export const VM_EXIT_INTR_ERROR_CODE = 0x4406;
export const IDT_VECTORING_INFO_FIELD = 0x4408;
export const VM_EXIT_INSTRUCTION_LEN = 0x440c;
export const GUEST_IDTR_LIMIT = 0x4812;
export const GUEST_INTERRUPTIBILITY_INFO = 0x4824;
export const GUEST_ACTIVITY_STATE = 0x4826;
export const EXIT_QUALIFICATION = 0x6400;
export const GUEST_LINEAR_ADDRESS = 0x640a;
export const GUEST_CR0 = 0x6800;
export const GUEST_CR3 = 0x6802;
export const GUEST_CR4 = 0x6804;
export const GUEST_IDTR_BASE = 0x6818;
export const GUEST_RSP = 0x681c;
export const GUEST_RIP = 0x681e;
export const GUEST_RFLAGS = 0x6820;
export const HOST_CR0 = 0x6c00;
export const HOST_CR3 = 0x6c02;
export const HOST_CR4 = 0x6c04;
export const HOST_RSP = 0x6c14;
export const HOST_RIP = 0x6c16;

/** Pin-based controls (SDM Vol. 3C §25.6.1). */
export const PIN_BASED_EXT_INTR_MASK = 1 << 0;
/** Primary processor-based controls (§25.6.2); combine with | then >>> 0. */
export const CPU_BASED_HLT_EXITING = 1 << 7;
export const CPU_BASED_INVLPG_EXITING = 1 << 9;
export const CPU_BASED_CR3_LOAD_EXITING = 1 << 15;
export const CPU_BASED_UNCOND_IO_EXITING = 1 << 24;
export const CPU_BASED_USE_IO_BITMAPS = 1 << 25;
export const CPU_BASED_USE_MSR_BITMAPS = 1 << 28;
export const CPU_BASED_ACTIVATE_SECONDARY_CONTROLS = 0x80000000;
/** Secondary processor-based controls (§25.6.2, Table 25-7). */
export const SECONDARY_EXEC_ENABLE_EPT = 1 << 1;
export const SECONDARY_EXEC_ENABLE_VPID = 1 << 5;
export const SECONDARY_EXEC_WBINVD_EXITING = 1 << 6;
export const SECONDARY_EXEC_UNRESTRICTED_GUEST = 1 << 7;
/** Bit 27 "enable PCONFIG": 0 makes PCONFIG in the guest #UD (Intel MKTME spec (336907-003, rev 1.3), PCONFIG virtualization). Linux
 *  vmxfeatures.h has no name for it; KVM never sets it. */
export const SECONDARY_EXEC_ENABLE_PCONFIG = 1 << 27;
/** VM-exit controls (§25.7.1) and VM-entry controls (§25.8.1). */
export const VM_EXIT_HOST_ADDR_SPACE_SIZE = 1 << 9;
export const VM_ENTRY_IA32E_MODE = 1 << 9;

/** Guest activity states (§25.4.2). */
export const GUEST_ACTIVITY_ACTIVE = 0;
export const GUEST_ACTIVITY_HLT = 1;
export const GUEST_ACTIVITY_SHUTDOWN = 2;

/** VM_ENTRY_INTR_INFO_FIELD / VM_EXIT_INTR_INFO (§25.8.3): vector 7:0, type 10:8,
 *  deliver-error-code 11, valid 31. */
export const INTR_INFO_VALID_MASK = 0x80000000;
export const INTR_INFO_DELIVER_CODE_MASK = 1 << 11;
export const INTR_TYPE_EXT_INTR = 0 << 8;
export const INTR_TYPE_HARD_EXCEPTION = 3 << 8;

/** Basic exit reasons (SDM Vol. 3C Appendix C; Linux uapi/asm/vmx.h). Bit 31 of
 *  VM_EXIT_REASON is set for a VM-entry failure. */
export const EXIT_REASON_EXCEPTION_NMI = 0;
export const EXIT_REASON_EXTERNAL_INTERRUPT = 1;
export const EXIT_REASON_TRIPLE_FAULT = 2;
export const EXIT_REASON_CPUID = 10;
export const EXIT_REASON_HLT = 12;
export const EXIT_REASON_INVLPG = 14;
export const EXIT_REASON_CR_ACCESS = 28;
export const EXIT_REASON_IO_INSTRUCTION = 30;
export const EXIT_REASON_MSR_READ = 31;
export const EXIT_REASON_MSR_WRITE = 32;
export const EXIT_REASON_INVALID_STATE = 33;
export const EXIT_REASON_EPT_VIOLATION = 48;
export const EXIT_REASON_EPT_MISCONFIG = 49;
export const EXIT_REASON_WBINVD = 54;
/** No name in Linux's uapi vmx.h (Intel MKTME spec (336907-003, rev 1.3), PCONFIG virtualization). */
export const EXIT_REASON_PCONFIG = 65;
export const VMX_EXIT_REASONS_FAILED_VMENTRY = 0x80000000;

/** I/O-instruction exit qualification (§28.2.1, Table 28-5). */
export const IO_QUAL_SIZE_MASK = 0x7;       // size - 1
export const IO_QUAL_IN = 1 << 3;           // direction: 1 = IN
export const IO_QUAL_STRING = 1 << 4;
export const IO_QUAL_PORT_SHIFT = 16;       // bits 31:16

/** EPT-violation exit qualification (§28.2.1, Table 28-7; Linux EPT_VIOLATION_*). */
export const EPT_VIOLATION_ACC_READ = 1 << 0;
export const EPT_VIOLATION_ACC_WRITE = 1 << 1;
export const EPT_VIOLATION_ACC_INSTR = 1 << 2;
export const EPT_VIOLATION_READABLE = 1 << 3;
export const EPT_VIOLATION_WRITABLE = 1 << 4;
export const EPT_VIOLATION_EXECUTABLE = 1 << 5;
export const EPT_VIOLATION_GVA_IS_VALID = 1 << 7;
export const EPT_VIOLATION_GVA_TRANSLATED = 1 << 8;

/** EPTP (§25.6.11) and EPT entries (§29.3.2; Linux VMX_EPT_*). */
export const VMX_EPTP_MT_UC = 0x0;
export const VMX_EPTP_MT_WB = 0x6;
export const VMX_EPTP_PWL_4 = 0x18;
export const VMX_EPTP_AD_ENABLE_BIT = 1 << 6;
export const VMX_EPT_READABLE_MASK = 0x1;
export const VMX_EPT_WRITABLE_MASK = 0x2;
export const VMX_EPT_EXECUTABLE_MASK = 0x4;
export const VMX_EPT_RWX_MASK = 0x7;
export const VMX_EPT_MT_EPTE_SHIFT = 3;
export const VMX_EPT_IPAT_BIT = 1 << 6;
export const VMX_EPT_LARGE_PAGE = 1 << 7;
export const VMX_EPT_ACCESS_BIT = 1 << 8;
export const VMX_EPT_DIRTY_BIT = 1 << 9;
/** KVM's fast-MMIO pattern: W|X without R is a misconfiguration (exit 49). */
export const VMX_EPT_MISCONFIG_WX_VALUE = VMX_EPT_WRITABLE_MASK | VMX_EPT_EXECUTABLE_MASK;
export const VMX_EPT_EXTENT_CONTEXT = 1;
export const VMX_EPT_EXTENT_GLOBAL = 2;

/** VMX capability MSRs (SDM Vol. 3C Appendix A). */
export const MSR_IA32_FEATURE_CONTROL = 0x3a;
export const MSR_IA32_VMX_BASIC = 0x480;
export const MSR_IA32_VMX_PROCBASED_CTLS = 0x482;
export const MSR_IA32_VMX_PROCBASED_CTLS2 = 0x48b;
export const MSR_IA32_VMX_EPT_VPID_CAP = 0x48c;

/** The guest's general-purpose registers as the CPU leaves them at a VM exit (KVM keeps
 *  them in vcpu->arch.regs). Values are unsigned 64-bit numbers that fit a double. */
export interface GuestRegs {
  rax: number; rbx: number; rcx: number; rdx: number;
  rsi: number; rdi: number; rbp: number; rsp: number;
  rflags: number;
}

/**
 * The guest access a VM exit interrupted, for EPT violations and misconfigurations: the
 * stand-in for the instruction bytes KVM's emulator decodes (MMIO). `complete()` retires
 * the instruction without touching memory: for a read, the host supplies the bytes.
 */
export interface VmxPendingAccess {
  gpa: number;
  gla: number;
  size: number;
  write: boolean;
  /** For a write, the bytes being stored. */
  data: Uint8Array;
  complete(readData?: Uint8Array): void;
}

declare module './isa.js' {
  /** The VMX and guest-side half of the instruction surface. */
  interface X86Cpu {
    // --- guest-side and common instructions ---
    /** HLT. On a physical CPU it returns at once (no interrupt source wakes it here, and
     *  nothing is pending); on a vCPU it is a HLT exit (see the execution model). */
    hlt(): void;
    /** Port I/O. #GP(0) at CPL 3 (IOPL is 0 here). A port no device decodes reads as all
     *  ones and ignores writes. */
    inb(port: number): number;
    inw(port: number): number;
    inl(port: number): number;
    outb(port: number, value: number): void;
    outw(port: number, value: number): void;
    outl(port: number, value: number): void;
    /** LIDT: base (linear) and limit of the IDT; 16-byte gates, see the execution model. */
    lidt(base: number, limit: number): void;
    /** Enter `routine` into the text table; returns its code address (non-zero). `eptp`
     *  (host only): register it as code of the VM whose EPT root is in `eptp`. */
    registerCode(routine: Routine, name?: string, eptp?: number): CodeAddr;

    // --- VMX root operation (host) ---
    vmxon(regionPa: number): number;
    vmxoff(): number;
    vmclear(vmcsPa: number): number;
    vmptrld(vmcsPa: number): number;
    /** VMPTRST: the current-VMCS pointer, or -1 (all ones) when there is none. */
    vmptrst(): number;
    /** VMREAD of a field of the current VMCS; -1 when the instruction fails. */
    vmread(field: number): number;
    vmwrite(field: number, value: number): number;
    vmlaunch(): number;
    vmresume(): number;
    /** INVEPT type 1 (single context, the EPTP given) or 2 (all contexts). */
    invept(type: number, eptp: number): number;
    /** The guest's GPRs for the current VMCS (read and write them between exits). */
    vmxGuestRegs(): GuestRegs;
    /** The guest access interrupted by the current EPT violation/misconfiguration exit. */
    vmxPendingAccess(): VmxPendingAccess | null;
  }
}
