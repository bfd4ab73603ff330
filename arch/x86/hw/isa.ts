/**
 * The architectural contract: what software running on this machine can see and do.
 *
 * This is the only file of arch/x86/hw that kernel code may import (a test enforces it);
 * its VMX half is isa_vmx.ts, which it re-exports.
 * It holds the instruction surface of one logical CPU, the typed faults those
 * instructions raise, and what the firmware hands to a booting kernel. A guest kernel
 * on a virtual CPU whose memory goes through EPT would be handed another
 * implementation of the same `X86Cpu` interface.
 *
 * Addresses:
 *  - Physical addresses are plain numbers. They need up to 52 bits, which a double holds
 *    exactly; never combine them with JavaScript's 32-bit bitwise operators.
 *  - Linear (virtual) addresses are carried as their low 48 bits, 0 .. 2^48-1. Bits 63:48
 *    of a canonical address are copies of bit 47 and are implied, so the kernel half
 *    0xffff8000_00000000.. is written 0x8000_0000_0000.. here. Tools print the
 *    sign-extended form. An address >= 2^48 is non-canonical: #GP(0).
 *  - 64-bit register and MSR values are bigint (cold paths); page-table entries in
 *    memory are read as two 32-bit halves.
 */

/** Exception vectors (SDM Vol. 3A, Table 6-1). */
export const X86_TRAP_UD = 6;
export const X86_TRAP_GP = 13;
export const X86_TRAP_PF = 14;
export const X86_TRAP_MC = 18;

/** #PF error code bits (SDM Vol. 3A §4.7). */
export const X86_PF_PROT = 1 << 0;  // 0: not-present, 1: protection violation
export const X86_PF_WRITE = 1 << 1; // access was a write
export const X86_PF_USER = 1 << 2;  // access was from CPL 3
export const X86_PF_RSVD = 1 << 3;  // reserved bit set in a paging entry
export const X86_PF_INSTR = 1 << 4; // instruction fetch

const MNEMONIC: Record<number, string> = {
  [X86_TRAP_UD]: '#UD', [X86_TRAP_GP]: '#GP', [X86_TRAP_PF]: '#PF', [X86_TRAP_MC]: '#MC',
};

/**
 * A fault raised by an instruction. Instructions check everything before they change
 * state, so a faulting instruction has changed nothing (except, for #PF, CR2).
 * `address` is CR2 for #PF and the physical address for a machine check.
 */
export class Fault {
  constructor(
    readonly vector: number,
    readonly errorCode = 0,
    readonly address = 0,
    readonly why = '',
  ) {}

  get mnemonic(): string { return MNEMONIC[this.vector] ?? `#${this.vector}`; }

  toString(): string {
    if (this.vector === X86_TRAP_PF) {
      return `#PF(${hex(this.errorCode)}) at ${hex(this.address)}`;
    }
    if (this.vector === X86_TRAP_MC) return `#MC at physical ${hex(this.address)}`;
    if (this.vector === X86_TRAP_UD) return '#UD';
    return `${this.mnemonic}(${this.errorCode})`;
  }
}

export function isFault(e: unknown): e is Fault { return e instanceof Fault; }

function hex(n: number): string { return '0x' + n.toString(16); }

export interface CpuidRegs { eax: number; ebx: number; ecx: number; edx: number }

/** PCONFIG's outputs: RAX and the ZF flag (CF, PF, AF, OF, SF are always cleared). */
export interface PconfigResult { rax: number; zf: boolean }

/** CR0 bits the machine implements. */
export const X86_CR0_WP = 1 << 16;
export const X86_CR0_PG = 0x80000000; // combine with | then >>> 0

/**
 * One logical CPU, as software sees it: its instructions and nothing else.
 * Memory operands are linear addresses, translated by this CPU's MMU when CR0.PG is
 * set (with CR0.PG clear, linear = physical). All accesses go through the caches.
 */
export interface X86Cpu {
  /** Position in the firmware's CPU list (the order a kernel brings CPUs up). */
  readonly index: number;

  cpuid(leaf: number, subleaf?: number): CpuidRegs;
  /** #GP(0) for an unknown MSR or a reserved-bit violation. */
  rdmsr(msr: number): bigint;
  wrmsr(msr: number, value: bigint): void;
  /** PCONFIG with EAX = leaf, RBX = linear address of the leaf's structure. */
  pconfig(leaf: number, rbx: number): PconfigResult;
  /** The time-stamp counter (virtual cycles since power-on). */
  rdtsc(): number;

  /** Current privilege level: 0 (kernel) or 3 (user). Set by the kernel on entry/exit. */
  cpl: 0 | 3;
  readCr0(): number;
  writeCr0(value: number): void;
  /** CR3: page-table base; its address may carry a KeyID. Writing it flushes the
   *  non-global TLB entries. */
  readCr3(): number;
  writeCr3(value: number): void;
  /** CR2: the linear address of the last #PF. */
  readCr2(): number;
  invlpg(va: number): void;

  /** Data loads and stores. Multi-byte accesses are little-endian. */
  read(va: number, dst: Uint8Array): void;
  write(va: number, src: Uint8Array): void;
  load8(va: number): number;
  load32(va: number): number;
  store8(va: number, value: number): void;
  store32(va: number, value: number): void;
  load64(va: number): bigint;
  store64(va: number, value: bigint): void;
  /** REP STOSB: fill `len` bytes with `byte`. Translated and checked before any store. */
  fill(va: number, byte: number, len: number): void;
  /** An instruction fetch of `len` bytes (checks NX and U/S for execution). */
  fetch(va: number, len: number): Uint8Array;

  /** CLFLUSH: write back and invalidate the line holding `va` in every cache. */
  clflush(va: number): void;
  /** WBINVD: write back and invalidate this package's caches. */
  wbinvd(): void;

  /**
   * MOVDIR64B (SDM Vol. 2B): a 64-byte direct store of src[srcOff..+64) to the
   * 64-byte-aligned linear address `va` (#GP(0) if unaligned; #UD without CPUID.7.0:
   * ECX[28]). It bypasses the caches: a cached copy of the line is written back if
   * modified and invalidated, then the line goes to memory whole, through the engine
   * under the destination's KeyID, by the write-combining protocol. Optional: a CPU
   * implementation without it (a virtual CPU) leaves it out, and CPUID says so.
   */
  movdir64b?(va: number, src: Uint8Array, srcOff?: number): void;
}

/** e820 entry types (ACPI / Linux arch/x86/include/uapi/asm/e820.h). */
export const E820_TYPE_RAM = 1;
export const E820_TYPE_RESERVED = 2;
export const E820_TYPE_PMEM = 7;

export interface E820Entry { addr: number; size: number; type: number }

/** SRAT-like affinity: which node each memory range and each CPU belongs to. */
export interface MemAffinity { base: number; size: number; node: number }

/** What the firmware hands to the kernel it boots. */
export interface BootParams {
  e820: E820Entry[];
  memAffinity: MemAffinity[];
  /** Logical CPUs; cpus[0] is the boot CPU. Node of each is from CPUID topology. */
  cpus: X86Cpu[];
  /** CPUs the firmware lists (MP table), when more than `cpus`: the others are APs that
   *  exist as an X86Cpu only once they run (a guest's vCPUs), woken by an IPI. */
  nrCpus?: number;
  /** CPU index -> NUMA node (SRAT processor affinity). */
  cpuNode: number[];
  cmdline: string;
  /** ACPI MCFG: the ECAM windows of the PCI segments (absent: no PCI, e.g. a guest). */
  mcfg?: AcpiMcfgAllocation[];
  /** ACPI DMAR: the DMA-remapping units; null or absent when there is no (enabled) VT-d. */
  dmar?: AcpiDmar | null;
}

/** One MCFG allocation: ECAM at `base` for buses startBus..endBus of `segment`. */
export interface AcpiMcfgAllocation { base: number; segment: number; startBus: number; endBus: number }

/** A DMAR device scope entry (type 1: PCI endpoint) with its path from `bus`. */
export interface AcpiDmarScope { type: number; bus: number; path: { dev: number; fn: number }[] }

/** A DRHD: one remapping unit's register base; flags bit 0 INCLUDE_PCI_ALL. */
export interface AcpiDmarDrhd { flags: number; segment: number; address: number; scope: AcpiDmarScope[] }

/** The DMAR table (VT-d spec ch. 8): host address width minus one, flags, units. */
export interface AcpiDmar { width: number; flags: number; drhd: AcpiDmarDrhd[] }

// VMX and the guest-side instruction surface (SDM Vol. 3C): isa_vmx.ts, part of this contract.
export * from './isa_vmx.js';
