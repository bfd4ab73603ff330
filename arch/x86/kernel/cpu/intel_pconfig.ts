/**
 * PCONFIG enumeration (Linux arch/x86/kernel/cpu/intel_pconfig.c, v4.17-v6.10): which
 * PCONFIG targets this platform supports, from the target-identifier subleafs of
 * CPUID leaf 1BH. Run once at boot (Linux: arch_initcall) on the boot CPU.
 *
 * "Subleafs of the same type need not to be consecutive"; "All subleafs after the first
 * invalid are invalid too" (comments of the Linux file).
 */
import { cpuid_count } from '../../include/asm/processor.js';
import { X86_FEATURE_PCONFIG } from '../../include/asm/cpufeatures.js';
import { boot_cpu_has } from './common.js';

export const PCONFIG_CPUID = 0x1b;
const PCONFIG_CPUID_SUBLEAF_MASK = (1 << 12) - 1;

/** Subleaf type (EAX) for PCONFIG CPUID leaf (0x1B). */
export const PCONFIG_CPUID_SUBLEAF_INVALID = 0;
export const PCONFIG_CPUID_SUBLEAF_TARGETID = 1;

/** The Linux loop runs to INT_MAX; a sane bound keeps a broken CPUID from hanging boot. */
const MAX_SUBLEAFS = 1 << 16;

/** Bitmask of supported targets (bit n = target n), as a bigint for the 64 bits. */
let targets_supported = 0n;

/** Is PCONFIG target `target` (enum pconfig_target) supported? */
export function pconfig_target_supported(target: number): boolean {
  if (!Number.isInteger(target) || target < 0 || target >= 64) return false; // WARN_ON_ONCE in Linux
  return (targets_supported & (1n << BigInt(target))) !== 0n;
}

/** intel_pconfig_init(): scan leaf 1BH on the boot CPU. Returns 0. */
export function intel_pconfig_init(): number {
  targets_supported = 0n;
  if (!boot_cpu_has(X86_FEATURE_PCONFIG)) return 0;

  for (let subleaf = 0; subleaf < MAX_SUBLEAFS; subleaf++) {
    const regs = cpuid_count(PCONFIG_CPUID, subleaf);
    switch (regs.eax & PCONFIG_CPUID_SUBLEAF_MASK) {
      case PCONFIG_CPUID_SUBLEAF_INVALID:
        /* Stop on the first invalid subleaf */
        return 0;
      case PCONFIG_CPUID_SUBLEAF_TARGETID:
        /* Mark supported PCONFIG targets */
        for (const id of [regs.ebx, regs.ecx, regs.edx]) {
          if (id < 64) targets_supported |= 1n << BigInt(id);
        }
        break;
      default:
        /* Unknown CPUID.PCONFIG subleaf: ignore */
        break;
    }
  }
  return 0;
}
