/**
 * PCONFIG and its MKTME_KEY_PROGRAM leaf (Linux asm/intel_pconfig.h, v4.17-v6.10,
 * reference §1.4): the targets, the leaf, the KEYID_CTRL commands and algorithms, the
 * status codes, the key-program structure, and mktme_key_program(), the kernel's one
 * caller of the PCONFIG instruction.
 *
 * Additions to Linux's header: MKTME_AES_XTS_256 (ENC_ALG bit 2, spec §3.2) and the
 * fault handling: a #GP/#UD/#PF from PCONFIG is an oops in Linux; here it is logged and
 * turned into a negative errno so that a bad request (the pconfig debug tool's) is an
 * error. A fault of the kernel's own stores is still an oops (mktme_key_program).
 */
import { Fault, X86_TRAP_GP, X86_TRAP_PF } from '../../hw/isa.js';
import { __free_pages, alloc_pages, GFP_KERNEL } from '../../../../mm/page_alloc.js';
import { pr_err } from '../../../../kernel/printk.js';
import { page_address } from './page.js';
import { clflush_cache_range, memcpy_toio, memset_io, pconfig, smp_processor_id } from './processor.js';
import { pconfig_target_supported } from '../../kernel/cpu/intel_pconfig.js';
import { EFAULT, EINVAL, EIO, ENOMEM, ENXIO } from '../../../../kernel/errno.js';

// errno values (include/uapi/asm-generic/errno-base.h).

/** enum pconfig_target. */
export const INVALID_TARGET = 0;
export const MKTME_TARGET = 1;
export const PCONFIG_TARGET_NR = 2;

/** enum pconfig_leaf. */
export const MKTME_KEY_PROGRAM = 0;
export const PCONFIG_LEAF_INVALID = 1;

/* mktme_key_program::keyid_ctrl COMMAND, bits [7:0] */
export const MKTME_KEYID_SET_KEY_DIRECT = 0;
export const MKTME_KEYID_SET_KEY_RANDOM = 1;
export const MKTME_KEYID_CLEAR_KEY = 2;
export const MKTME_KEYID_NO_ENCRYPT = 3;

/* mktme_key_program::keyid_ctrl ENC_ALG, bits [23:8] */
export const MKTME_AES_XTS_128 = 1 << 8;
/** Not in Linux's header: ENC_ALG bit 2 (spec §3.2). */
export const MKTME_AES_XTS_256 = 1 << 10;

/* Return codes from the PCONFIG MKTME_KEY_PROGRAM */
export const MKTME_PROG_SUCCESS = 0;
export const MKTME_INVALID_PROG_CMD = 1;
export const MKTME_ENTROPY_ERROR = 2;
export const MKTME_INVALID_KEYID = 3;
export const MKTME_INVALID_ENC_ALG = 4;
export const MKTME_DEVICE_BUSY = 5;

/** The status codes' meanings (the MKTME key service's mktme_error[] table, §3.4). */
export const mktme_error: readonly { msg: string; retry: boolean }[] = [
  /* MKTME_PROG_SUCCESS     */ { msg: 'KeyID was successfully programmed', retry: false },
  /* MKTME_INVALID_PROG_CMD */ { msg: 'Invalid KeyID programming command', retry: false },
  /* MKTME_ENTROPY_ERROR    */ { msg: 'Insufficient entropy', retry: true },
  /* MKTME_INVALID_KEYID    */ { msg: 'KeyID not valid', retry: false },
  /* MKTME_INVALID_ENC_ALG  */ { msg: 'Invalid encryption algorithm chosen', retry: false },
  /* MKTME_DEVICE_BUSY      */ { msg: 'Failure to access key table', retry: true },
];

/**
 * struct mktme_key_program (packed, 256-byte aligned; "Hardware requires the structure
 * to be 256 byte aligned. Otherwise #GP(0)."):
 *   0 u16 keyid | 2 u32 keyid_ctrl | 6 u8 __rsvd[58] | 64 key_field_1[64] | 128 key_field_2[64]
 */
export interface mktme_key_program {
  keyid: number;
  keyid_ctrl: number;
  /** Data key (SET_KEY_DIRECT) or entropy (SET_KEY_RANDOM); 64 bytes, zero padded. */
  key_field_1: Uint8Array;
  /** Tweak key or entropy; 64 bytes, zero padded. */
  key_field_2: Uint8Array;
}

export const MKTME_KEY_PROGRAM_SIZE = 192;
export const MKTME_KEY_PROGRAM_ALIGN = 256;
const KEY_FIELD_SIZE = 64;

/** A zeroed structure. */
export function mktme_key_program_alloc(keyid = 0, keyid_ctrl = 0): mktme_key_program {
  return { keyid, keyid_ctrl, key_field_1: new Uint8Array(KEY_FIELD_SIZE), key_field_2: new Uint8Array(KEY_FIELD_SIZE) };
}

/** Zero the key material of a structure (callers do this once it is programmed). */
export function mktme_key_program_wipe(kprog: mktme_key_program): void {
  kprog.key_field_1.fill(0);
  kprog.key_field_2.fill(0);
}

function valid(kprog: mktme_key_program): boolean {
  return Number.isInteger(kprog.keyid) && kprog.keyid >= 0 && kprog.keyid <= 0xffff
    && Number.isInteger(kprog.keyid_ctrl) && kprog.keyid_ctrl >= 0 && kprog.keyid_ctrl <= 0xffffffff
    && kprog.key_field_1 instanceof Uint8Array && kprog.key_field_1.length <= KEY_FIELD_SIZE
    && kprog.key_field_2 instanceof Uint8Array && kprog.key_field_2.length <= KEY_FIELD_SIZE;
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
 * the structure) is logged and returned as an errno, so a bad request is an error,
 * not an oops. A fault of the kernel's own store into the page (its direct mapping
 * broken) is a kernel oops and propagates; the cleanup then touches the page only if
 * the structure was written, so it cannot fault the same way, and a page that may
 * still hold key bytes is never returned to the allocator (it is leaked, and said so).
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
