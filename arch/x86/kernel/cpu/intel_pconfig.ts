/**
 * PCONFIG enumeration (Linux arch/x86/kernel/cpu/intel_pconfig.c, v4.17-v6.10): which
 * PCONFIG targets this platform supports, from the target-identifier subleafs of
 * CPUID leaf 1BH. Run once at boot (Linux: arch_initcall) on the boot CPU. And
 * mktme_key_program(), the kernel's one caller of PCONFIG (an inline of
 * asm/intel_pconfig.h in Linux; here it also places the structure in a page). A
 * #GP/#UD/#PF from PCONFIG is an oops in Linux; here it is logged and turned into a
 * negative errno so a bad request cannot bring the host down.
 *
 * "Subleafs of the same type need not to be consecutive"; "All subleafs after the first
 * invalid are invalid too" (comments of the Linux file).
 */
import { Fault, X86_TRAP_GP, X86_TRAP_PF } from '../../hw/isa.js';
import {
  clflush_cache_range, cpuid_count, memcpy_toio, memset_io, pconfig, smp_processor_id,
} from '../../include/asm/processor.js';
import { X86_FEATURE_PCONFIG } from '../../include/asm/cpufeatures.js';
import {
  MKTME_KEY_FIELD_SIZE, MKTME_KEY_PROGRAM, MKTME_KEY_PROGRAM_ALIGN, MKTME_TARGET, type mktme_key_program,
} from '../../include/asm/intel_pconfig.js';
import { page_address } from '../../include/asm/page.js';
import { __free_pages, alloc_pages, GFP_KERNEL } from '../../../../mm/page_alloc.js';
import { pr_err } from '../../../../kernel/printk.js';
import { EFAULT, EINVAL, EIO, ENOMEM, ENXIO } from '../../../../kernel/errno.js';
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

function valid(kprog: mktme_key_program): boolean {
  return Number.isInteger(kprog.keyid) && kprog.keyid >= 0 && kprog.keyid <= 0xffff
    && Number.isInteger(kprog.keyid_ctrl) && kprog.keyid_ctrl >= 0 && kprog.keyid_ctrl <= 0xffffffff
    && kprog.key_field_1 instanceof Uint8Array && kprog.key_field_1.length <= MKTME_KEY_FIELD_SIZE
    && kprog.key_field_2 instanceof Uint8Array && kprog.key_field_2.length <= MKTME_KEY_FIELD_SIZE;
}

/** The structure's bytes, little-endian (a buffer the caller must zero). */
function serialize(kprog: mktme_key_program): Uint8Array {
  const b = new Uint8Array(MKTME_KEY_PROGRAM_ALIGN);
  b[0] = kprog.keyid & 0xff;
  b[1] = (kprog.keyid >>> 8) & 0xff;
  for (let i = 0; i < 4; i++) b[2 + i] = (kprog.keyid_ctrl >>> (8 * i)) & 0xff;
  b.set(kprog.key_field_1, 64);
  b.set(kprog.key_field_2, 128);
  return b;
}

/**
 * mktme_key_program(): run PCONFIG MKTME_KEY_PROGRAM on the CURRENT CPU (so once per
 * package, on a CPU of that package). Returns RAX (MKTME_PROG_SUCCESS or a status
 * code), -ENXIO when the MKTME target is not supported, -EINVAL for a malformed
 * structure or a #GP, -ENOMEM without a page for the structure.
 *
 * The structure goes into a freshly allocated kernel page (256-byte aligned, written
 * through the KeyID-0 direct map) and is zeroed, flushed and freed right after PCONFIG,
 * so no copy of the key outlives the call; the caller zeroes its own `kprog`.
 *
 * Faults: what PCONFIG itself raises (#GP for a request the hardware refuses, #PF on
 * the structure) is logged and returned as an errno, so a bad request (the pconfig
 * debug tool's) is an error, not an oops. A fault of the kernel's own store into the
 * page (its direct mapping broken) is an oops and propagates
 * (arch/x86/kernel/traps.ts); the cleanup then touches the page only if the structure
 * was written, so it cannot fault the same way, and a page that may still hold key
 * bytes is never returned to the allocator (it is leaked, and said so).
 */
export function mktme_key_program(kprog: mktme_key_program): number {
  if (!pconfig_target_supported(MKTME_TARGET)) return -ENXIO;
  if (!valid(kprog)) return -EINVAL;

  const pfn = alloc_pages(GFP_KERNEL, 0);
  if (pfn < 0) return -ENOMEM;
  const va = page_address(pfn);
  const buf = serialize(kprog);
  let written = false;
  try {
    memcpy_toio(va, buf);
    written = true;
    buf.fill(0);
    try {
      return pconfig(MKTME_KEY_PROGRAM, va).rax;
    } catch (e) {
      if (!(e instanceof Fault)) throw e;
      pr_err(`x86/pconfig: MKTME_KEY_PROGRAM on CPU ${smp_processor_id()} raised ${e.toString()}`);
      return e.vector === X86_TRAP_GP ? -EINVAL : e.vector === X86_TRAP_PF ? -EFAULT : -EIO;
    }
  } finally {
    buf.fill(0);
    wipe_and_free(pfn, va, written);
  }
}

/** Zero the structure and push the zeros out, then free the page (see above). */
function wipe_and_free(pfn: number, va: number, written: boolean): void {
  if (written) {
    try {
      memset_io(va, 0, MKTME_KEY_PROGRAM_ALIGN);
      clflush_cache_range(va, MKTME_KEY_PROGRAM_ALIGN);
    } catch (e) {
      if (!(e instanceof Fault)) throw e;
      pr_err(`x86/pconfig: cannot wipe the key-program page 0x${pfn.toString(16)} (${e.toString()}); leaking it`);
      return;
    }
  }
  __free_pages(pfn, 0);
}
