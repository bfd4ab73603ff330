/**
 * CPU identification (Linux arch/x86/kernel/cpu/common.c): fills one `cpuinfo_x86` per
 * CPU from CPUID, on that CPU, and runs the vendor hook (init_intel). Covers the vendor
 * string, family/model/stepping with the extended fields, the brand string, the
 * capability words, address sizes (80000008H), CLFLUSH size, and the x2APIC topology
 * from leaf 0BH (package id, core id).
 *
 * Not covered: caches (leaves 2/4), microcode, bug detection, hotplug.
 */
import { cpuid, cpuid_count, nr_cpu_ids, smp_processor_id } from '../../include/asm/processor.js';
import {
  CPUID_1_ECX, CPUID_1_EDX, CPUID_7_0_EBX, CPUID_7_ECX, CPUID_7_EDX, CPUID_8000_0001_ECX,
  CPUID_8000_0001_EDX, NCAPINTS, X86_FEATURE_CONSTANT_TSC, X86_FEATURE_CPUID, X86_FEATURE_NONSTOP_TSC,
} from '../../include/asm/cpufeatures.js';
import { pr_info } from '../../../../kernel/printk.js';

export const X86_VENDOR_INTEL = 0;
export const X86_VENDOR_UNKNOWN = 0xff;

/** HZ for loops_per_jiffy / BogoMIPS (a 2 GHz TSC: 4000.00 BogoMIPS). */
export const HZ = 1000;

export interface cpuinfo_x86 {
  cpu_index: number;
  x86_vendor: number;
  /** CPU family (with the extended family folded in). */
  x86: number;
  x86_model: number;
  x86_stepping: number;
  cpuid_level: number;
  extended_cpuid_level: number;
  x86_vendor_id: string;
  x86_model_id: string;
  /** Capability words; bit `f % 32` of word `f / 32` is feature f. */
  x86_capability: Uint32Array;
  /** Physical address bits usable for memory (MAXPHYADDR minus the KeyID bits). */
  x86_phys_bits: number;
  x86_virt_bits: number;
  x86_clflush_size: number;
  x86_cache_alignment: number;
  /** 80000007H EDX (power management). */
  x86_power: number;
  apicid: number;
  initial_apicid: number;
  /** topology_physical_package_id(). */
  phys_proc_id: number;
  cpu_core_id: number;
  /** Logical CPUs per package enumerated by leaf 0BH. */
  x86_max_cores: number;
  /** Cores of this package that are online (set by smpboot). */
  booted_cores: number;
  loops_per_jiffy: number;
}

function blank_cpuinfo(cpu: number): cpuinfo_x86 {
  return {
    cpu_index: cpu, x86_vendor: X86_VENDOR_UNKNOWN, x86: 0, x86_model: 0, x86_stepping: 0,
    cpuid_level: -1, extended_cpuid_level: 0, x86_vendor_id: '', x86_model_id: '',
    x86_capability: new Uint32Array(NCAPINTS), x86_phys_bits: 36, x86_virt_bits: 48,
    x86_clflush_size: 64, x86_cache_alignment: 64, x86_power: 0, apicid: 0, initial_apicid: 0,
    phys_proc_id: 0, cpu_core_id: 0, x86_max_cores: 1, booted_cores: 0, loops_per_jiffy: 0,
  };
}

let cpu_info: cpuinfo_x86[] = [];
/** Vendor hooks run at the end of identify_cpu (Linux: this_cpu->c_init). */
let vendor_init: ((c: cpuinfo_x86) => void) | null = null;

/** Boot: forget every CPU's data. `init` is the vendor hook (init_intel). */
export function cpu_common_init(init: ((c: cpuinfo_x86) => void) | null): void {
  cpu_info = [];
  vendor_init = init;
}

/** per_cpu(cpu_info, cpu); throws for a CPU never identified (a kernel bug). */
export function cpu_data(cpu: number): cpuinfo_x86 {
  const c = cpu_info[cpu];
  if (!c) throw new Error(`cpu_data: CPU ${cpu} not identified`);
  return c;
}

export function cpu_identified(cpu: number): boolean { return cpu_info[cpu] !== undefined; }

export function boot_cpu_data(): cpuinfo_x86 { return cpu_data(0); }

export function cpu_has(c: cpuinfo_x86, feature: number): boolean {
  return ((c.x86_capability[feature >>> 5] >>> (feature & 31)) & 1) === 1;
}
export function boot_cpu_has(feature: number): boolean {
  return cpu_identified(0) && cpu_has(boot_cpu_data(), feature);
}
export function set_cpu_cap(c: cpuinfo_x86, feature: number): void {
  c.x86_capability[feature >>> 5] |= 1 << (feature & 31);
}
export function clear_cpu_cap(c: cpuinfo_x86, feature: number): void {
  c.x86_capability[feature >>> 5] &= ~(1 << (feature & 31));
}

/** Twelve bytes of registers as ASCII (vendor and brand strings). */
function regs_string(...regs: number[]): string {
  let s = '';
  for (const r of regs) {
    for (let i = 0; i < 4; i++) s += String.fromCharCode((r >>> (8 * i)) & 0xff);
  }
  return s;
}

/** x86_family/x86_model/x86_stepping from CPUID.1:EAX (SDM Vol. 2A, CPUID "Version Information"). */
export function x86_family(sig: number): number {
  let x86 = (sig >>> 8) & 0xf;
  if (x86 === 0xf) x86 += (sig >>> 20) & 0xff;
  return x86;
}
export function x86_model(sig: number): number {
  const fam = x86_family(sig);
  let model = (sig >>> 4) & 0xf;
  if (fam >= 0x6) model += ((sig >>> 16) & 0xf) << 4;
  return model;
}
export function x86_stepping(sig: number): number { return sig & 0xf; }

/** Leaf 0BH: x2APIC id and the shift from it to the package id (detect_extended_topology). */
function detect_extended_topology(c: cpuinfo_x86): void {
  if (c.cpuid_level < 0xb) {
    c.phys_proc_id = 0;
    c.cpu_core_id = c.apicid;
    return;
  }
  let smt_shift = 0;
  let core_shift = 0;
  let core_cpus = 1;
  for (let sub = 0; sub < 8; sub++) {
    const r = cpuid_count(0xb, sub);
    const type = (r.ecx >>> 8) & 0xff;
    if (type === 0) break;
    if (type === 1) smt_shift = r.eax & 0x1f;          // SMT level
    if (type === 2) { core_shift = r.eax & 0x1f; core_cpus = r.ebx & 0xffff; } // core level
    c.apicid = r.edx >>> 0;
  }
  if (core_shift < smt_shift) core_shift = smt_shift;
  c.phys_proc_id = Math.floor(c.apicid / 2 ** core_shift);
  c.cpu_core_id = Math.floor((c.apicid % 2 ** core_shift) / 2 ** smt_shift);
  c.x86_max_cores = Math.max(1, core_cpus);
}

/** Fill `c` from CPUID on the current CPU (get_cpu_vendor, get_cpu_cap, get_cpu_address_sizes). */
function generic_identify(c: cpuinfo_x86): void {
  const l0 = cpuid(0);
  c.cpuid_level = l0.eax;
  c.x86_vendor_id = regs_string(l0.ebx, l0.edx, l0.ecx);
  c.x86_vendor = c.x86_vendor_id === 'GenuineIntel' ? X86_VENDOR_INTEL : X86_VENDOR_UNKNOWN;

  if (c.cpuid_level >= 1) {
    const l1 = cpuid(1);
    c.x86 = x86_family(l1.eax);
    c.x86_model = x86_model(l1.eax);
    c.x86_stepping = x86_stepping(l1.eax);
    c.x86_capability[CPUID_1_EDX] = l1.edx;
    c.x86_capability[CPUID_1_ECX] = l1.ecx;
    c.initial_apicid = (l1.ebx >>> 24) & 0xff;
    c.apicid = c.initial_apicid;
    if (l1.edx & (1 << 19)) { // CLFLUSH: EBX[15:8] in 8-byte units
      c.x86_clflush_size = ((l1.ebx >>> 8) & 0xff) * 8;
      c.x86_cache_alignment = c.x86_clflush_size;
    }
  }
  if (c.cpuid_level >= 7) {
    const l7 = cpuid_count(7, 0);
    c.x86_capability[CPUID_7_0_EBX] = l7.ebx;
    c.x86_capability[CPUID_7_ECX] = l7.ecx;
    c.x86_capability[CPUID_7_EDX] = l7.edx;
  }

  c.extended_cpuid_level = cpuid(0x80000000).eax >>> 0;
  const ext = c.extended_cpuid_level;
  if (((ext & 0xffff0000) >>> 0) === 0x80000000) {
    if (ext >= 0x80000001) {
      const e1 = cpuid(0x80000001);
      c.x86_capability[CPUID_8000_0001_EDX] = e1.edx;
      c.x86_capability[CPUID_8000_0001_ECX] = e1.ecx;
    }
    if (ext >= 0x80000004) {
      const b = [0x80000002, 0x80000003, 0x80000004].map((l) => cpuid(l));
      c.x86_model_id = regs_string(...b.flatMap((r) => [r.eax, r.ebx, r.ecx, r.edx]))
        .replace(/\0.*$/s, '').trim();
    }
    if (ext >= 0x80000007) c.x86_power = cpuid(0x80000007).edx;
    if (ext >= 0x80000008) {
      const a = cpuid(0x80000008).eax;
      c.x86_phys_bits = a & 0xff;
      c.x86_virt_bits = (a >>> 8) & 0xff;
    }
  }
  // Linux-defined word 3 (early_init_intel: invariant TSC; identify: "cpuid").
  set_cpu_cap(c, X86_FEATURE_CPUID);
  if (c.x86_power & (1 << 8)) {
    set_cpu_cap(c, X86_FEATURE_CONSTANT_TSC);
    set_cpu_cap(c, X86_FEATURE_NONSTOP_TSC);
  }
  detect_extended_topology(c);
  // calibrate_delay(): lpj from the TSC frequency of leaf 16H (base MHz), else 2 GHz.
  const mhz = c.cpuid_level >= 0x16 ? cpuid(0x16).eax || 2000 : 2000;
  c.loops_per_jiffy = Math.floor((mhz * 1_000_000) / HZ);
}

/**
 * identify_cpu(): identify the CPU this runs on into a fresh cpuinfo_x86 and run the
 * vendor hook. Returns the new data (also cpu_data(cpu)).
 */
export function identify_cpu(): cpuinfo_x86 {
  const cpu = smp_processor_id();
  const c = blank_cpuinfo(cpu);
  cpu_info[cpu] = c;
  generic_identify(c);
  if (c.x86_vendor === X86_VENDOR_INTEL && vendor_init) vendor_init(c);
  return c;
}

/** print_cpu_info(): "smpboot: CPU0: <brand> (family: 0x6, model: 0x6a, stepping: 0x6)". */
export function print_cpu_info(c: cpuinfo_x86): void {
  const name = c.x86_model_id || `${c.x86_vendor_id} ${c.x86}/${c.x86_model}`;
  pr_info(`smpboot: CPU${c.cpu_index}: ${name} (family: 0x${c.x86.toString(16)}, ` +
    `model: 0x${c.x86_model.toString(16)}, stepping: 0x${c.x86_stepping.toString(16)})`);
}

