/**
 * PCONFIG (NP 0F 01 C5), leaf 0 MKTME_KEY_PROGRAM: program one KeyID's entry in this
 * package's key table (Intel MKTME spec (336907-003, rev 1.3), PCONFIG). Only leaf 0 exists on this machine (no TSE
 * leaves 1/2), so any other EAX is #GP(0).
 *
 * - Checks run in the current SDM's order (Intel MKTME spec (336907-003, rev 1.3), PCONFIG fault conditions) and a fault changes nothing.
 * - cfg.cpu.pconfigRev '1.3' applies rev 1.3's differences: RSVD bytes 6..63 and the
 *   key-field upper bytes must be zero (#GP), and a bad command / KeyID / algorithm
 *   returns status 1 / 3 / 4 with ZF=1 instead of #GP.
 * - The CPUID.1BH target-1 check (Intel MKTME spec (336907-003, rev 1.3), PCONFIG fault conditions step 3) always passes: with PCONFIG
 *   enumerated, leaf 1BH always lists the MKTME target.
 * - Every copy of key bytes (the struct as read, the derived keys) is zeroed before
 *   returning, on every path.
 */
import type { MachineConfig } from './config.js';
import { KEY_MODE_KEY, KEY_MODE_NO_ENCRYPT, KEY_MODE_TME } from './engine.js';
import { Fault, X86_TRAP_GP, X86_TRAP_UD, type PconfigResult } from './isa.js';
import { actAlgs, actKeyIdBits, TME_ACTIVATE_ENABLE, TME_ACTIVATE_LOCK } from './msr.js';
import type { Package } from './package.js';

/** PCONFIG leaf (EAX). */
export const PCONFIG_LEAF_MKTME_KEY_PROGRAM = 0;

/** KEYID_CTRL[7:0] COMMAND (Intel MKTME spec (336907-003, rev 1.3), PCONFIG, MKTME_KEY_PROGRAM_STRUCT). */
export const KEYID_SET_KEY_DIRECT = 0;
export const KEYID_SET_KEY_RANDOM = 1;
export const KEYID_CLEAR_KEY = 2;
export const KEYID_NO_ENCRYPT = 3;

/** RAX status codes (Intel MKTME spec (336907-003, rev 1.3), PCONFIG return codes). */
export const PCONFIG_PROG_SUCCESS = 0;
export const PCONFIG_INVALID_PROG_CMD = 1;
export const PCONFIG_ENTROPY_ERROR = 2;
export const PCONFIG_INVALID_KEYID = 3;
export const PCONFIG_INVALID_ENC_ALG = 4;
export const PCONFIG_DEVICE_BUSY = 5;

/** KEYID_CTRL[23:8] ENC_ALG bits: same numbering as IA32_TME_CAPABILITY[15:0] (Intel MKTME spec (336907-003, rev 1.3), PCONFIG, MKTME_KEY_PROGRAM_STRUCT). */
export const ENC_ALG_AES_XTS_128 = 1 << 0;
export const ENC_ALG_AES_XTS_256 = 1 << 2;

/** MKTME_KEY_PROGRAM_STRUCT layout (Intel MKTME spec (336907-003, rev 1.3), PCONFIG, MKTME_KEY_PROGRAM_STRUCT): 192 bytes used, 256-byte aligned. */
export const KEY_PROGRAM_STRUCT_SIZE = 192;
export const KEY_PROGRAM_STRUCT_ALIGN = 256;
export const KEY_PROGRAM_KEYID = 0;      // u16
export const KEY_PROGRAM_KEYID_CTRL = 2; // u32
export const KEY_PROGRAM_RSVD = 6;       // 58 bytes
export const KEY_PROGRAM_KEY_FIELD_1 = 64;
export const KEY_PROGRAM_KEY_FIELD_2 = 128;
const KEY_FIELD_SIZE = 64;

/** What PCONFIG needs from the CPU executing it. */
export interface PconfigEnv {
  cfg: MachineConfig;
  pkg: Package;
  cpl: number;
  /** The executing logical CPU (the key-table lock's owner while it runs). */
  cpu: number;
  /**
   * Read `len` bytes at linear address `va` through the CPU's MMU and caches; throws a
   * Fault (#PF/#GP). Must return a fresh buffer: PCONFIG owns it and zeroes it.
   */
  readLinear(va: number, len: number): Uint8Array;
}

function gp(why: string): Fault { return new Fault(X86_TRAP_GP, 0, 0, 'pconfig: ' + why); }
function fail(rax: number): PconfigResult { return { rax, zf: true }; }

function allZero(b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (b[i] !== 0) return false;
  return true;
}

export function pconfig(env: PconfigEnv, leaf: number, rbx: number): PconfigResult {
  const { cfg, pkg } = env;
  // 1. CPUID.7.0:EDX[18] = 0 or CPL > 0: #UD.
  if (!cfg.cpu.pconfig) throw new Fault(X86_TRAP_UD, 0, 0, 'pconfig: not enumerated');
  if (env.cpl > 0) throw new Fault(X86_TRAP_UD, 0, 0, 'pconfig: CPL > 0');
  // 2. Only leaf 0 (MKTME_KEY_PROGRAM) exists on this machine.
  if (leaf !== PCONFIG_LEAF_MKTME_KEY_PROGRAM) throw gp(`leaf ${leaf} not supported`);
  // 4. IA32_TME_ACTIVATE locked, enabled, and KeyID bits > 0.
  const act = pkg.tmeActivate;
  const k = actKeyIdBits(act);
  if (!(act & TME_ACTIVATE_LOCK) || !(act & TME_ACTIVATE_ENABLE) || k === 0) {
    throw gp('TME-MK not activated');
  }
  // 5. DS:RBX 256-byte aligned and canonical (linear addresses are carried as 48 bits).
  if (rbx % KEY_PROGRAM_STRUCT_ALIGN !== 0) throw gp('RBX not 256-byte aligned');
  if (rbx < 0 || rbx >= 2 ** 48) throw gp('RBX not canonical');
  const s = env.readLinear(rbx, KEY_PROGRAM_STRUCT_SIZE); // a #PF propagates
  try {
    return program(env, s, k, act);
  } finally {
    s.fill(0);
  }
}

/** Steps 6.. of the operation, over the struct copy `s`. */
function program(env: PconfigEnv, s: Uint8Array, k: number, act: bigint): PconfigResult {
  const { cfg, pkg } = env;
  const rev13 = cfg.cpu.pconfigRev === '1.3';
  const keyid = s[KEY_PROGRAM_KEYID] | s[KEY_PROGRAM_KEYID + 1] << 8;
  const c = KEY_PROGRAM_KEYID_CTRL;
  const command = s[c];                     // KEYID_CTRL[7:0]
  const encAlg = s[c + 1] | s[c + 2] << 8;  // KEYID_CTRL[23:8]
  const ctrlRsvd = s[c + 3];                // KEYID_CTRL[31:24]
  // 6. KEYID_CTRL reserved bits.
  if (ctrlRsvd !== 0) throw gp('KEYID_CTRL[31:24] not zero');
  if (rev13) {
    // Rev 1.3: RSVD bytes 6..63 must be zero; key fields beyond the key length too.
    if (!allZero(s, KEY_PROGRAM_RSVD, KEY_PROGRAM_KEY_FIELD_1)) throw gp('RSVD bytes not zero (rev 1.3)');
    for (const [bit, used] of [[ENC_ALG_AES_XTS_128, 16], [ENC_ALG_AES_XTS_256, 32]]) {
      if (!(encAlg & bit)) continue;
      for (const f of [KEY_PROGRAM_KEY_FIELD_1, KEY_PROGRAM_KEY_FIELD_2]) {
        if (!allZero(s, f + used, f + KEY_FIELD_SIZE)) throw gp('key field upper bytes not zero (rev 1.3)');
      }
    }
  }
  // 7. COMMAND.
  if (command > KEYID_NO_ENCRYPT) {
    if (rev13) return fail(PCONFIG_INVALID_PROG_CMD);
    throw gp(`bad command ${command}`);
  }
  // 8. KeyID: 1..MK_TME_MAX_KEYS and within the k activated KeyID bits.
  if (keyid === 0 || keyid > cfg.cpu.maxKeys || keyid >= 2 ** k) {
    if (rev13) return fail(PCONFIG_INVALID_KEYID);
    throw gp(`bad KeyID ${keyid}`);
  }
  // 10. ENC_ALG: exactly one bit, and one activated in IA32_TME_ACTIVATE[63:48].
  if (encAlg === 0 || (encAlg & (encAlg - 1)) !== 0 || (encAlg & actAlgs(act)) === 0) {
    if (rev13) return fail(PCONFIG_INVALID_ENC_ALG);
    throw gp(`bad ENC_ALG ${encAlg.toString(16)}`);
  }
  // 11. KEY_TABLE_LOCK: another logical processor holds it -> DEVICE_BUSY, nothing changed.
  if (!pkg.engine.tryLockKeyTable(env.cpu)) return fail(PCONFIG_DEVICE_BUSY);
  const len = encAlg === ENC_ALG_AES_XTS_256 ? 32 : 16;
  switch (command) {
    case KEYID_SET_KEY_DIRECT: {
      const key1 = s.slice(KEY_PROGRAM_KEY_FIELD_1, KEY_PROGRAM_KEY_FIELD_1 + len); // data key
      const key2 = s.slice(KEY_PROGRAM_KEY_FIELD_2, KEY_PROGRAM_KEY_FIELD_2 + len); // tweak key
      try {
        pkg.engine.programKey(keyid, KEY_MODE_KEY, key1, key2);
      } finally {
        key1.fill(0); key2.fill(0);
      }
      break;
    }
    case KEYID_SET_KEY_RANDOM: {
      // 12. RNG XOR software entropy, for the data key and the tweak key.
      const rnd = pkg.engine.randomKey(2 * len);
      if (rnd === null) return fail(PCONFIG_ENTROPY_ERROR); // the lock is released
      try {
        for (let i = 0; i < len; i++) {
          rnd[i] ^= s[KEY_PROGRAM_KEY_FIELD_1 + i];
          rnd[len + i] ^= s[KEY_PROGRAM_KEY_FIELD_2 + i];
        }
        pkg.engine.programKey(keyid, KEY_MODE_KEY, rnd.subarray(0, len), rnd.subarray(len));
      } finally {
        rnd.fill(0);
      }
      break;
    }
    case KEYID_CLEAR_KEY:
      pkg.engine.programKey(keyid, KEY_MODE_TME);
      break;
    default: // KEYID_NO_ENCRYPT
      pkg.engine.programKey(keyid, KEY_MODE_NO_ENCRYPT);
      break;
  }
  // 13. Success: RAX = 0, ZF = 0.
  return { rax: PCONFIG_PROG_SUCCESS, zf: false };
}
