/**
 * PCONFIG and its MKTME_KEY_PROGRAM leaf (Linux asm/intel_pconfig.h, v4.17-v6.10):
 * the targets, the leaf, the KEYID_CTRL commands and algorithms, the status codes and
 * the key-program structure. The call itself, mktme_key_program(), is in
 * arch/x86/kernel/cpu/intel_pconfig.ts (a header allocates nothing).
 *
 * Addition to Linux's header: MKTME_AES_XTS_256 (ENC_ALG bit 2; Intel MKTME
 * Architecture Specification rev 1.1, section 4.2 "PCONFIG").
 */

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
/** Not in Linux's header: ENC_ALG bit 2 (Intel MKTME spec (336907-003, rev 1.3), PCONFIG, MKTME_KEY_PROGRAM_STRUCT). */
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
export const MKTME_KEY_FIELD_SIZE = 64;

/** A zeroed structure. */
export function mktme_key_program_alloc(keyid = 0, keyid_ctrl = 0): mktme_key_program {
  return { keyid, keyid_ctrl, key_field_1: new Uint8Array(MKTME_KEY_FIELD_SIZE), key_field_2: new Uint8Array(MKTME_KEY_FIELD_SIZE) };
}

/** Zero the key material of a structure (callers do this once it is programmed). */
export function mktme_key_program_wipe(kprog: mktme_key_program): void {
  kprog.key_field_1.fill(0);
  kprog.key_field_2.fill(0);
}
