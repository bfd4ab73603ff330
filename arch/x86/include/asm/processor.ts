/**
 * The kernel's only door to the hardware: which CPU is running, and thin wrappers for
 * the privileged instructions (xv6's x86.h, Linux's asm/special_insns.h, asm/msr.h).
 * Everything else in the kernel calls these, never an X86Cpu method directly, so a
 * reader finds every instruction the kernel issues here.
 *
 * This emulated kernel runs one CPU at a time: `smp_call_function_single` switches the
 * "current" CPU, runs the function, and switches back, which is what an IPI does for
 * a synchronous cross-call.
 */
import { Fault, X86_TRAP_GP, type CpuidRegs, type X86Cpu } from '../../hw/isa.js';
import { EIO } from '../../../../kernel/errno.js';

let cpus: X86Cpu[] = [];
let current = 0;

/** Boot: the CPUs the firmware described. cpus[0] is the boot CPU. */
export function set_cpu_possible(list: X86Cpu[]): void {
  cpus = list;
  current = 0;
}

export function nr_cpu_ids(): number { return cpus.length; }
export function smp_processor_id(): number { return current; }
export function this_cpu(): X86Cpu { return cpus[current]; }

/** Run `fn` on `cpu` and return its result (an IPI and a wait, done synchronously). */
export function smp_call_function_single<T>(cpu: number, fn: () => T): T {
  const saved = current;
  current = cpu;
  try {
    return fn();
  } finally {
    current = saved;
  }
}

/** Run `fn` on every CPU in `mask` (all online CPUs by default). */
export function on_each_cpu(fn: (cpu: number) => void, mask?: number[]): void {
  for (const cpu of mask ?? cpus.map((_, i) => i)) smp_call_function_single(cpu, () => fn(cpu));
}

// --- CPUID, MSRs ------------------------------------------------------------------------

export function cpuid_count(leaf: number, subleaf: number): CpuidRegs {
  return this_cpu().cpuid(leaf, subleaf);
}
export function cpuid(leaf: number): CpuidRegs { return cpuid_count(leaf, 0); }

/** rdmsrl: a #GP here is a kernel bug (Linux would oops); use rdmsrl_safe for probing. */
export function rdmsrl(msr: number): bigint { return this_cpu().rdmsr(msr); }

/** rdmsrl_safe: the exception-table variant (EX_TYPE_RDMSR_SAFE): -EIO on #GP. */
export function rdmsrl_safe(msr: number): { err: number; val: bigint } {
  try {
    return { err: 0, val: this_cpu().rdmsr(msr) };
  } catch (e) {
    if (e instanceof Fault && e.vector === X86_TRAP_GP) return { err: -EIO, val: 0n };
    throw e;
  }
}
export function wrmsrl_safe(msr: number, val: bigint): number {
  try {
    this_cpu().wrmsr(msr, val);
    return 0;
  } catch (e) {
    if (e instanceof Fault && e.vector === X86_TRAP_GP) return -EIO;
    throw e;
  }
}

export function rdtsc(): number { return this_cpu().rdtsc(); }

/**
 * Run `insn` on this CPU at CPL 3, as user code runs after the kernel's IRET/SYSRET to
 * user mode, and be back at CPL 0 however it ends (a fault's entry to the kernel, or the
 * next system call). A fault propagates to the caller, now at CPL 0.
 */
export function user_mode_exec<T>(insn: (cpu: X86Cpu) => T): T {
  const cpu = this_cpu();
  cpu.cpl = 3;
  try {
    return insn(cpu);
  } finally {
    cpu.cpl = 0;
  }
}

// --- control registers, TLB, caches --------------------------------------------------------

export function read_cr0(): number { return this_cpu().readCr0(); }
export function write_cr0(v: number): void { this_cpu().writeCr0(v); }
export function read_cr3(): number { return this_cpu().readCr3(); }
export function write_cr3(v: number): void { this_cpu().writeCr3(v); }
/** Flush this CPU's TLB entry for one page (INVLPG). */
export function __flush_tlb_one(va: number): void { this_cpu().invlpg(va); }
/** Flush this CPU's non-global TLB entries (CR3 reload). */
export function __flush_tlb_local(): void { const c = this_cpu(); c.writeCr3(c.readCr3()); }

export const CACHE_LINE = 64;

/** CLFLUSH every line of [va, va+size) (Linux: clflush_cache_range). */
export function clflush_cache_range(va: number, size: number): void {
  const c = this_cpu();
  const start = va - (va % CACHE_LINE);
  for (let p = start; p < va + size; p += CACHE_LINE) c.clflush(p);
}

export function wbinvd(): void { this_cpu().wbinvd(); }

/**
 * MOVDIR64B (Linux: movdir64b() in asm/special_insns.h): a 64-byte direct store to the
 * aligned `va`. The caller checks X86_FEATURE_MOVDIR64B (asm/page_64.ts does).
 */
export function movdir64b(va: number, src: Uint8Array, srcOff = 0): void {
  const c = this_cpu();
  if (!c.movdir64b) throw new Fault(6 /* #UD */, 0, 0, 'MOVDIR64B not implemented by this CPU');
  c.movdir64b(va, src, srcOff);
}
export function has_movdir64b(): boolean { return typeof this_cpu().movdir64b === 'function'; }

/** The PCONFIG instruction (Linux: asm volatile(PCONFIG ...)). */
export function pconfig(leaf: number, rbx: number): { rax: number; zf: boolean } {
  return this_cpu().pconfig(leaf, rbx);
}

// --- kernel memory access through the current CPU's MMU -------------------------------

export function readl(va: number): number { return this_cpu().load32(va); }
export function writel(va: number, v: number): void { this_cpu().store32(va, v); }
export function memcpy_fromio(va: number, dst: Uint8Array): void { this_cpu().read(va, dst); }
export function memcpy_toio(va: number, src: Uint8Array): void { this_cpu().write(va, src); }
export function memset_io(va: number, byte: number, len: number): void { this_cpu().fill(va, byte, len); }
