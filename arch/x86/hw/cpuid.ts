/**
 * CPUID: what one logical CPU of this machine reports. The machine is an Ice Lake-SP
 * style part (family 6, model 0x6A, stepping 6) with TME (leaf 7 ECX[13]) and PCONFIG
 * (leaf 7 EDX[18], leaf 1BH) switchable through cfg.cpu (Intel MKTME spec (336907-003, rev 1.3), CPUID enumeration).
 *
 * - Leaves: 0, 1, 7, 0BH, 16H, 1BH, 80000000H-80000008H. Other leaves at or below the
 *   maximum (2..1AH, 80000005H/6H) are not implemented and return zeros.
 * - A leaf above the maximum basic leaf (1BH) or above the maximum extended leaf
 *   (80000008H) returns the data of the highest basic leaf (1BH, same subleaf), as Intel
 *   CPUs do (SDM Vol. 2A CPUID, "INPUT EAX = 0": "the data for the highest basic
 *   information leaf is returned").
 * - Topology: one thread per core, cfg.cpusPerPackage cores per package. The x2APIC ID
 *   is pkg << coreShift | thread, where coreShift = ceil(log2(cpusPerPackage)) is the
 *   leaf 0BH core-level shift, so package = apicId >> coreShift.
 * - 80000008H MAXPHYADDR is unchanged by MKTME (Intel MKTME spec (336907-003, rev 1.3), CPUID enumeration).
 * All register values are uint32.
 */
import { TSC_HZ } from './clock.js';
import type { MachineConfig } from './config.js';
import type { CpuidRegs } from './isa.js';

export const CPUID_MAX_BASIC_LEAF = 0x1b;
export const CPUID_MAX_EXT_LEAF = 0x80000008;

/** Ice Lake-SP signature (leaf 1 EAX). */
export const CPU_FAMILY = 6;
export const CPU_MODEL = 0x6a;
export const CPU_STEPPING = 6;

// Leaf 1 EDX (SDM Vol. 2A Table 3-11).
export const X86_FEATURE_FPU = 1 << 0;
export const X86_FEATURE_DE = 1 << 2;
export const X86_FEATURE_PSE = 1 << 3;
export const X86_FEATURE_TSC = 1 << 4;
export const X86_FEATURE_MSR = 1 << 5;
export const X86_FEATURE_PAE = 1 << 6;
export const X86_FEATURE_MCE = 1 << 7;
export const X86_FEATURE_CX8 = 1 << 8;
export const X86_FEATURE_APIC = 1 << 9;
export const X86_FEATURE_SEP = 1 << 11;
export const X86_FEATURE_MTRR = 1 << 12;
export const X86_FEATURE_PGE = 1 << 13;
export const X86_FEATURE_MCA = 1 << 14;
export const X86_FEATURE_CMOV = 1 << 15;
export const X86_FEATURE_PAT = 1 << 16;
export const X86_FEATURE_PSE36 = 1 << 17;
export const X86_FEATURE_CLFLUSH = 1 << 19;
export const X86_FEATURE_MMX = 1 << 23;
export const X86_FEATURE_FXSR = 1 << 24;
export const X86_FEATURE_XMM = 1 << 25;
export const X86_FEATURE_XMM2 = 1 << 26;
export const X86_FEATURE_HT = 1 << 28;
// Leaf 1 ECX (SDM Vol. 2A Table 3-10).
export const X86_FEATURE_XMM3 = 1 << 0;
export const X86_FEATURE_PCLMULQDQ = 1 << 1;
/** VMX (SDM Vol. 3C §24.6): VMXON and the rest, see vmx/. */
export const X86_FEATURE_VMX = 1 << 5;
export const X86_FEATURE_SSSE3 = 1 << 9;
export const X86_FEATURE_CX16 = 1 << 13;
export const X86_FEATURE_PCID = 1 << 17;
export const X86_FEATURE_XMM4_1 = 1 << 19;
export const X86_FEATURE_XMM4_2 = 1 << 20;
export const X86_FEATURE_X2APIC = 1 << 21;
export const X86_FEATURE_MOVBE = 1 << 22;
export const X86_FEATURE_POPCNT = 1 << 23;
export const X86_FEATURE_TSC_DEADLINE = 1 << 24;
export const X86_FEATURE_AES = 1 << 25;
export const X86_FEATURE_HYPERVISOR = 2 ** 31; // ECX[31]: never set, this is bare metal
// Leaf 7.0 EBX (SDM Vol. 2A Table 3-8).
export const X86_FEATURE_FSGSBASE = 1 << 0;
export const X86_FEATURE_BMI1 = 1 << 3;
export const X86_FEATURE_SMEP = 1 << 7;
export const X86_FEATURE_BMI2 = 1 << 8;
export const X86_FEATURE_ERMS = 1 << 9;
export const X86_FEATURE_INVPCID = 1 << 10;
export const X86_FEATURE_SMAP = 1 << 20;
export const X86_FEATURE_CLFLUSHOPT = 1 << 23;
export const X86_FEATURE_CLWB = 1 << 24;
// Leaf 7.0 ECX[13] TME_EN and EDX[18] PCONFIG (Intel MKTME spec (336907-003, rev 1.3), CPUID enumeration).
export const X86_FEATURE_TME = 1 << 13;
export const X86_FEATURE_PCONFIG = 1 << 18;
export const X86_FEATURE_MOVDIR64B = 1 << 28; // leaf 7.0 ECX[28]
// Leaf 80000001H (SDM Vol. 2A Table 3-8, extended).
export const X86_FEATURE_LAHF_LM = 1 << 0;   // ECX[0]
export const X86_FEATURE_ABM = 1 << 5;       // ECX[5] LZCNT
export const X86_FEATURE_3DNOWPREFETCH = 1 << 8; // ECX[8] PREFETCHW
export const X86_FEATURE_SYSCALL = 1 << 11;  // EDX[11]
export const X86_FEATURE_NX = 1 << 20;       // EDX[20]
export const X86_FEATURE_GBPAGES = 1 << 26;  // EDX[26]
export const X86_FEATURE_RDTSCP = 1 << 27;   // EDX[27]
export const X86_FEATURE_LM = 1 << 29;       // EDX[29]
// Leaf 80000007H EDX[8] invariant TSC.
export const X86_FEATURE_CONSTANT_TSC = 1 << 8;

// Leaf 0BH level types (ECX[15:8]).
export const CPUID_TOPO_INVALID = 0;
export const CPUID_TOPO_SMT = 1;
export const CPUID_TOPO_CORE = 2;

// Leaf 1BH sub-leaf types (EAX[11:0]) and PCONFIG targets (Intel MKTME spec (336907-003, rev 1.3), CPUID enumeration).
export const PCONFIG_CPUID_SUBLEAF_INVALID = 0;
export const PCONFIG_CPUID_SUBLEAF_TARGETID = 1;
export const PCONFIG_TARGET_MKTME = 1;

const LINEAR_ADDR_BITS = 48;
const BASE_MHZ = TSC_HZ / 1e6; // the virtual clock's rate (clock.ts)
const MAX_MHZ = BASE_MHZ;
const BUS_MHZ = 100;
const BRAND = 'Intel(R) Xeon(R) CPU (emulated MKTME) @ 2.00GHz';

/** Leaf 0BH core-level shift: bits of the x2APIC ID that number CPUs within a package. */
export function coreShift(cfg: MachineConfig): number {
  return cfg.cpusPerPackage <= 1 ? 0 : Math.ceil(Math.log2(cfg.cpusPerPackage));
}

/** The x2APIC ID of logical CPU `thread` of package `pkg`: pkg << coreShift | thread. */
export function apicId(cfg: MachineConfig, pkg: number, thread: number): number {
  return pkg * 2 ** coreShift(cfg) + thread;
}

function regs(eax: number, ebx: number, ecx: number, edx: number): CpuidRegs {
  return { eax: eax >>> 0, ebx: ebx >>> 0, ecx: ecx >>> 0, edx: edx >>> 0 };
}

const ZERO: CpuidRegs = { eax: 0, ebx: 0, ecx: 0, edx: 0 };

/** Four ASCII characters as a little-endian uint32 (register string order). */
function ascii4(s: string, off: number): number {
  let v = 0;
  for (let i = 3; i >= 0; i--) v = v * 256 + (off + i < s.length ? s.charCodeAt(off + i) : 0);
  return v;
}

export function cpuid(cfg: MachineConfig, pkgIndex: number, threadIndex: number, leaf: number, subleaf: number): CpuidRegs {
  leaf >>>= 0;
  subleaf >>>= 0;
  const inBasic = leaf <= CPUID_MAX_BASIC_LEAF;
  const inExt = leaf >= 0x80000000 && leaf <= CPUID_MAX_EXT_LEAF;
  if (!inBasic && !inExt) leaf = CPUID_MAX_BASIC_LEAF; // Intel: highest basic leaf's data
  const id = apicId(cfg, pkgIndex, threadIndex);
  switch (leaf) {
    case 0x0: // max basic leaf; "GenuineIntel" in EBX, EDX, ECX
      return regs(CPUID_MAX_BASIC_LEAF, ascii4('Genu', 0), ascii4('ntel', 0), ascii4('ineI', 0));
    case 0x1: return leaf1(cfg, id);
    case 0x7: return leaf7(cfg, subleaf);
    case 0xb: return leaf0b(cfg, id, subleaf);
    case 0x16: // EAX base MHz, EBX max MHz, ECX bus (reference) MHz
      return regs(BASE_MHZ, MAX_MHZ, BUS_MHZ, 0);
    case 0x1b: return leaf1b(cfg, subleaf);
    case 0x80000000: return regs(CPUID_MAX_EXT_LEAF, 0, 0, 0);
    case 0x80000001:
      return regs(0, 0,
        X86_FEATURE_LAHF_LM | X86_FEATURE_ABM | X86_FEATURE_3DNOWPREFETCH,
        X86_FEATURE_SYSCALL | X86_FEATURE_NX | X86_FEATURE_GBPAGES | X86_FEATURE_RDTSCP | X86_FEATURE_LM);
    case 0x80000002: case 0x80000003: case 0x80000004: { // brand string, 16 bytes per leaf
      const off = (leaf - 0x80000002) * 16;
      return regs(ascii4(BRAND, off), ascii4(BRAND, off + 4), ascii4(BRAND, off + 8), ascii4(BRAND, off + 12));
    }
    case 0x80000007: return regs(0, 0, 0, X86_FEATURE_CONSTANT_TSC);
    case 0x80000008: // EAX[7:0] MAXPHYADDR, EAX[15:8] linear address bits
      return regs((cfg.cpu.maxPhysAddr & 0xff) | (LINEAR_ADDR_BITS << 8), 0, 0, 0);
    default:
      return { ...ZERO };
  }
}

/** Leaf 1: signature, APIC ID, CLFLUSH size, feature flags. */
function leaf1(cfg: MachineConfig, id: number): CpuidRegs {
  // EAX: [3:0] stepping, [7:4] model, [11:8] family, [19:16] extended model,
  // [27:20] extended family (0 for family 6).
  const eax = CPU_STEPPING | (CPU_MODEL & 0xf) << 4 | CPU_FAMILY << 8 | (CPU_MODEL >> 4) << 16;
  // EBX: [15:8] CLFLUSH line size in 8-byte units, [23:16] addressable logical processor
  // IDs per package (2^coreShift, a power of two), [31:24] initial APIC ID.
  const maxIds = Math.min(255, 2 ** coreShift(cfg));
  const ebx = 8 << 8 | maxIds << 16 | (id & 0xff) << 24;
  const ecx = X86_FEATURE_XMM3 | X86_FEATURE_PCLMULQDQ | X86_FEATURE_VMX | X86_FEATURE_SSSE3 | X86_FEATURE_CX16
    | X86_FEATURE_PCID | X86_FEATURE_XMM4_1 | X86_FEATURE_XMM4_2 | X86_FEATURE_X2APIC
    | X86_FEATURE_MOVBE | X86_FEATURE_POPCNT | X86_FEATURE_TSC_DEADLINE | X86_FEATURE_AES;
  const edx = X86_FEATURE_FPU | X86_FEATURE_DE | X86_FEATURE_PSE | X86_FEATURE_TSC | X86_FEATURE_MSR
    | X86_FEATURE_PAE | X86_FEATURE_MCE | X86_FEATURE_CX8 | X86_FEATURE_APIC | X86_FEATURE_SEP
    | X86_FEATURE_MTRR | X86_FEATURE_PGE | X86_FEATURE_MCA | X86_FEATURE_CMOV | X86_FEATURE_PAT
    | X86_FEATURE_PSE36 | X86_FEATURE_CLFLUSH | X86_FEATURE_MMX | X86_FEATURE_FXSR
    | X86_FEATURE_XMM | X86_FEATURE_XMM2 | X86_FEATURE_HT;
  return regs(eax, ebx, ecx, edx);
}

/** Leaf 7: structured extended features; only subleaf 0 exists (EAX = 0 = max subleaf). */
function leaf7(cfg: MachineConfig, subleaf: number): CpuidRegs {
  if (subleaf !== 0) return { ...ZERO };
  const ebx = X86_FEATURE_FSGSBASE | X86_FEATURE_BMI1 | X86_FEATURE_SMEP | X86_FEATURE_BMI2
    | X86_FEATURE_ERMS | X86_FEATURE_INVPCID | X86_FEATURE_SMAP | X86_FEATURE_CLFLUSHOPT
    | X86_FEATURE_CLWB;
  const ecx = (cfg.cpu.tme ? X86_FEATURE_TME : 0)         // ECX[13] TME_EN
    | (cfg.cpu.movdir64b ? X86_FEATURE_MOVDIR64B : 0);    // ECX[28] MOVDIR64B
  const edx = cfg.cpu.pconfig ? X86_FEATURE_PCONFIG : 0; // EDX[18] PCONFIG
  return regs(0, ebx, ecx, edx);
}

/** Leaf 0BH: x2APIC topology. Subleaf 0 SMT, 1 core, 2+ invalid; EDX = x2APIC ID. */
function leaf0b(cfg: MachineConfig, id: number, subleaf: number): CpuidRegs {
  // EAX[4:0] shift to the next level's ID, EBX[15:0] logical CPUs at this level,
  // ECX[7:0] subleaf, ECX[15:8] level type.
  if (subleaf === 0) return regs(0, 1, CPUID_TOPO_SMT << 8, id);
  if (subleaf === 1) return regs(coreShift(cfg), cfg.cpusPerPackage & 0xffff, 1 | CPUID_TOPO_CORE << 8, id);
  return regs(0, 0, subleaf & 0xff, id);
}

/** Leaf 1BH: PCONFIG information (Intel MKTME spec (336907-003, rev 1.3), CPUID enumeration). */
function leaf1b(cfg: MachineConfig, subleaf: number): CpuidRegs {
  if (!cfg.cpu.pconfig || subleaf !== 0) return { ...ZERO };
  // EAX[11:0] = 1: target-identifier subleaf; EBX = target 1 (MKTME); ECX/EDX no more targets.
  return regs(PCONFIG_CPUID_SUBLEAF_TARGETID, PCONFIG_TARGET_MKTME, 0, 0);
}
