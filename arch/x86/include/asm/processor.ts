/**
 * The kernel's only door to the hardware: which CPU is running, and thin wrappers for
 * the privileged instructions (xv6's x86.h, Linux's asm/special_insns.h, asm/msr.h).
 * Everything else in the kernel calls these, never an X86Cpu method directly, so a
 * reader finds every instruction the kernel issues here.
 *
 * This emulated kernel runs one CPU at a time. A CPU whose handle the firmware gave at
 * boot (the board's CPUs, which share one thread) is reached by switching the "current"
 * CPU, running the function and switching back: what an IPI and a wait amount to for a
 * synchronous cross-call. A CPU the firmware only lists (a guest's APs: a vCPU exists
 * as an X86Cpu only once it runs, isa.ts "Execution model") announces its own handle
 * when it starts (set_cpu_present, from start_secondary). A vCPU's handle works only
 * while that vCPU runs, so on such a machine every CPU, the boot CPU included, is
 * reached by a real IPI: the call goes on its call_single_queue and
 * smp_ops.send_call_func_single_ipi (the x2APIC ICR, arch/x86/kernel/smp.ts)
 * interrupts it (Linux kernel/smp.c).
 *
 * One stack runs every vCPU: the target of an IPI runs nested inside the sender's
 * WRMSR, so a CPU waiting for another (further out on the stack) cannot run anything
 * until that one returns. A call to a waiting CPU is therefore queued when nobody waits
 * for its result (smp_call_function_single_async: TLB flushes; it runs before the
 * waiting CPU's next instruction, so the delay cannot be observed) and refused with
 * SmpCallError when somebody does (callers such as the msr driver turn that into
 * -EDEADLK; run_as runs the task's work on the calling CPU instead, kernel/sched.ts).
 */
import { Fault, X86_TRAP_GP, type CpuidRegs, type X86Cpu } from '../../hw/isa.js';
import { EIO } from '../../../../kernel/errno.js';
import { MSR_X2APIC_ID } from './msr-index.js';

let cpus: (X86Cpu | null)[] = [];
let current = 0;
/** Per CPU: reached by an IPI (some CPU was not handed over at boot). */
let by_ipi: boolean[] = [];

/** A cross-call that could not run: the target is waiting for the caller, or did not
 *  answer its IPI (Linux would hang in csd_lock_wait). */
export class SmpCallError extends Error {
  constructor(readonly cpu: number, why: string) { super(`smp: CPU ${cpu} ${why}`); this.name = 'SmpCallError'; }
}

/** A queued cross-call (struct __call_single_data). */
interface call_single_data { func: () => unknown; done: boolean; result?: unknown; error?: unknown }
let call_single_queue: call_single_data[][] = [];
/** CPUs waiting in a synchronous cross-call (csd_lock_wait) for another CPU. */
let waiting = new Set<number>();

/** The IPI sender (smp_ops.send_call_func_single_ipi); set once an APIC is set up. */
let send_call_func_single_ipi: ((cpu: number) => void) | null = null;

/**
 * Boot: the CPUs the firmware described. cpus[0] is the boot CPU; `nr` (default: all
 * handed over) counts the CPUs the firmware lists, the ones without a handle being APs
 * that start at their own entry.
 */
export function set_cpu_possible(list: X86Cpu[], nr = list.length): void {
  cpus = Array.from({ length: nr }, (_, i) => list[i] ?? null);
  // A listed-only CPU means virtual CPUs: a vCPU's handle works only while that vCPU
  // runs, so then every CPU, the boot CPU included, is reached by IPI.
  const parked = cpus.some((c) => c === null);
  by_ipi = cpus.map(() => parked);
  call_single_queue = cpus.map(() => []);
  waiting = new Set();
  send_call_func_single_ipi = null;
  current = 0;
}

export function nr_cpu_ids(): number { return cpus.length; }
export function smp_processor_id(): number { return current; }
export function this_cpu(): X86Cpu { return cpus[current]!; }
/** Whether the kernel holds `cpu`'s handle (cpu_present). */
export function cpu_present(cpu: number): boolean { return cpus[cpu] != null; }

/** x2APIC ID register (SDM Vol. 3A §11.12.5.1): the CPU number in this kernel. */

/**
 * An AP's first instruction (start_secondary): read its x2APIC ID (the MP table lists
 * the CPUs by APIC ID, 0..n-1) and record its handle as that CPU's. The CPU number,
 * or -1 for an ID the firmware did not list (the AP then stays offline).
 */
export function set_cpu_present(handle: X86Cpu): number {
  let id: number;
  try {
    id = Number(handle.rdmsr(MSR_X2APIC_ID));
  } catch (e) {
    if (e instanceof Fault) return -1;
    throw e;
  }
  if (!by_ipi[id] || (cpus[id] !== null && cpus[id] !== handle)) return -1;
  cpus[id] = handle;
  return id;
}

/** The CPU number of a handle (an interrupt handler's `cpu` argument), or -1. */
export function cpu_of(handle: X86Cpu): number { return cpus.indexOf(handle); }

/** smp_ops.send_call_func_single_ipi for CPUs reached by IPI. */
export function set_send_call_func_single_ipi(fn: (cpu: number) => void): void { send_call_func_single_ipi = fn; }

/** Run `fn` with `cpu` as the current CPU (a CPU's own code: interrupt entry, start_secondary). */
export function on_this_cpu<T>(cpu: number, fn: () => T): T {
  const saved = current;
  current = cpu;
  try {
    return fn();
  } finally {
    current = saved;
  }
}

/**
 * A CPU that is itself waiting for this one (further out on the one stack): it cannot
 * run until this CPU's work returns, so a call to it can only be queued.
 */
export function cpu_waiting(cpu: number): boolean { return cpu !== current && waiting.has(cpu); }

/** Run `fn` on `cpu` and return its result (an IPI and a wait). A Fault on the target
 *  is rethrown here. */
export function smp_call_function_single<T>(cpu: number, fn: () => T): T {
  if (cpu === current || !by_ipi[cpu]) return on_this_cpu(cpu, fn);
  if (waiting.has(cpu)) throw new SmpCallError(cpu, `is waiting for CPU ${current}`);
  const csd = queue_and_kick(cpu, fn);
  if (!csd.done) throw new SmpCallError(cpu, 'did not answer its IPI');
  if (csd.error !== undefined) throw csd.error;
  return csd.result as T;
}

/**
 * smp_call_function_single_async: `fn` runs on `cpu` without the caller waiting for a
 * result. A CPU waiting for this one runs it as soon as its own call returns, before
 * any other code of its own (the deferral cannot be observed: a TLB flush reaches it
 * before its next access).
 */
export function smp_call_function_single_async(cpu: number, fn: () => void): void {
  if (cpu === current || !by_ipi[cpu]) { on_this_cpu(cpu, fn); return; }
  if (waiting.has(cpu)) { call_single_queue[cpu].push({ func: fn, done: false }); return; }
  queue_and_kick(cpu, fn);
}

function queue_and_kick(cpu: number, func: () => unknown): call_single_data {
  if (!send_call_func_single_ipi || cpus[current] === null) throw new SmpCallError(cpu, 'has no IPI path');
  const csd: call_single_data = { func, done: false };
  call_single_queue[cpu].push(csd);
  const self = current;
  waiting.add(self);
  try {
    send_call_func_single_ipi(cpu); // synchronous: the target ran before the WRMSR retired
  } finally {
    waiting.delete(self);
    current = self;
  }
  flush_smp_call_function_queue(); // calls queued for us while we waited
  return csd;
}

/**
 * flush_smp_call_function_queue on the current CPU: run every queued call, keeping a
 * Fault (or error) for its caller (generic_smp_call_function_single_interrupt).
 */
export function flush_smp_call_function_queue(): void {
  const q = call_single_queue[current];
  while (q && q.length) {
    const csd = q.shift()!;
    try {
      csd.result = csd.func();
    } catch (e) {
      csd.error = e;
    }
    csd.done = true;
  }
}

/** Run `fn` on every CPU in `mask` (all CPUs by default). */
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
