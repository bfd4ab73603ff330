/**
 * MKTME KeyIDs: the pool of hardware KeyIDs, their reference counts, and programming the
 * key tables of every package through PCONFIG (Linux: security/keys/mktme_keys.c of the
 * MKTME series, the parts below the key type: the KeyID map, its references, and
 * mktme_program_all_keytables).
 *
 * The hardware is reached only through the injected mktme_hw_ops, which the boot code
 * implements with PCONFIG on one lead CPU per package. Lifecycle of a KeyID:
 *
 *   AVAILABLE --reserve--> ASSIGNED (refs = 1, the key's own reference)
 *   ASSIGNED --revoke/destroy of the key--> REF_KILLED (key's reference dropped)
 *   refs reach 0 --> REF_RELEASED: CLEAR_KEY on every package --> AVAILABLE
 *
 * The mm code takes further references (one per encrypted VMA and per 4K page) with
 * mktme_keyid_get()/mktme_keyid_put(), so a revoked key's KeyID stays programmed until
 * its last page is gone. Two departures from the series, both deliberate: programming
 * is all-or-nothing across packages (packages already programmed are cleared again if
 * another fails), and the clear-on-release runs synchronously in the last put rather
 * than from a work item.
 */
import { EINVAL, ENOKEY } from './uapi.js';
import { strerror } from '../errno.js';
import type { key } from './types.js';

import {
  MKTME_AES_XTS_128, MKTME_AES_XTS_256, MKTME_DEVICE_BUSY, MKTME_ENTROPY_ERROR, MKTME_INVALID_ENC_ALG,
  MKTME_INVALID_KEYID, MKTME_INVALID_PROG_CMD, MKTME_KEYID_CLEAR_KEY, MKTME_KEYID_NO_ENCRYPT,
  MKTME_KEYID_SET_KEY_DIRECT, MKTME_KEYID_SET_KEY_RANDOM, MKTME_PROG_SUCCESS, mktme_error, MKTME_KEY_FIELD_SIZE,
} from '../../arch/x86/include/asm/intel_pconfig.js';

export {
  MKTME_AES_XTS_128, MKTME_AES_XTS_256, MKTME_DEVICE_BUSY, MKTME_ENTROPY_ERROR, MKTME_INVALID_ENC_ALG,
  MKTME_INVALID_KEYID, MKTME_INVALID_PROG_CMD, MKTME_KEYID_CLEAR_KEY, MKTME_KEYID_NO_ENCRYPT,
  MKTME_KEYID_SET_KEY_DIRECT, MKTME_KEYID_SET_KEY_RANDOM, MKTME_PROG_SUCCESS, MKTME_KEY_FIELD_SIZE,
};

/** Tries per programming request (mktme_program_all_keytables). */
export const MKTME_PROGRAM_RETRIES = 10;

/** What the key service needs from the platform; the boot code implements it. */
export interface mktme_hw_ops {
  /** Usable KeyIDs (1..n); 0 when MKTME is off or unusable. */
  nr_keyids(): number;
  /** TME_ACTIVATE[63:48] algorithms the BIOS enabled and the kernel knows (bit 0 aes-xts-128, bit 2 aes-xts-256). */
  algs(): number;
  /** One online CPU per package (the PCONFIG targets). */
  lead_cpus(): number[];
  /** PCONFIG MKTME_KEY_PROGRAM on `cpu`; returns MKTME_PROG_SUCCESS .. MKTME_DEVICE_BUSY. */
  key_program(cpu: number, keyid: number, keyid_ctrl: number,
    key_field_1: Uint8Array, key_field_2: Uint8Array): number;
  /** The kernel log. */
  printk(msg: string): void;
}

/* mktme_keyid_state */
export const KEYID_AVAILABLE = 0;
export const KEYID_ASSIGNED = 1;
export const KEYID_REF_KILLED = 2;
export const KEYID_REF_RELEASED = 3;

interface mktme_mapping {
  key: key | null;
  state: number;
  /** encrypt_count[keyid]: the key's own reference plus the mm's. */
  refs: number;
  /** mktme_key_store: the programming control, and user keys when storekeys is on. */
  keyid_ctrl: number;
  data_key: Uint8Array | null;
  tweak_key: Uint8Array | null;
}

interface mktme_state {
  ops: mktme_hw_ops;
  nr_keyids: number;
  algs: number;
  storekeys: boolean;
  get_random_bytes: ((buf: Uint8Array) => void) | null;
  map: mktme_mapping[]; // index 0 unused
  available: number;
}

let mk: mktme_state | null = null;

/** A status code's message; a negative value is the kernel's own errno, not a status. */
function err_msg(status: number): string {
  if (status < 0) return `programming failed: ${strerror(status)}`;
  return mktme_error[status]?.msg ?? `Unknown programming status ${status}`;
}
function err_retry(status: number): boolean { return mktme_error[status]?.retry ?? false; }

/** Reset the KeyID pool for a new boot. */
export function mktme_keyid_reset(ops: mktme_hw_ops, storekeys: boolean,
  get_random_bytes: ((buf: Uint8Array) => void) | null): void {
  const nr = Math.max(0, ops.nr_keyids());
  const map: mktme_mapping[] = [];
  for (let i = 0; i <= nr; i++) {
    map.push({ key: null, state: KEYID_AVAILABLE, refs: 0, keyid_ctrl: 0, data_key: null, tweak_key: null });
  }
  mk = { ops, nr_keyids: nr, algs: ops.algs() & 0xffff, storekeys, get_random_bytes, map, available: nr };
}

/** Forget the pool (key_init does this each boot; init_mktme sets it up again). */
export function mktme_keyid_shutdown(): void {
  mk = null;
}

function state(): mktme_state {
  if (!mk) throw new Error('mktme: used before init_mktme()');
  return mk;
}

/**
 * KeyIDs the key service hands out (its pool, Linux's mktme_available_keyids range);
 * the hardware's count is arch/x86/mm/mktme.ts mktme_nr_keyids().
 */
export function mktme_pool_keyids(): number { return mk ? mk.nr_keyids : 0; }
/** Algorithms the mktme key type accepts (the platform's activated and known ones). */
export function mktme_key_algs(): number { return mk ? mk.algs : 0; }

/** MKTME_ANY_ACTIVATED_ALG: the lowest enabled algorithm, as CLEAR_KEY/NO_ENCRYPT need one. */
export function mktme_any_activated_alg(): number {
  const algs = mktme_key_algs();
  if (!algs) return 0;
  let bit = 0;
  while (!(algs & (1 << bit))) bit++;
  return (1 << bit) << 8;
}

/** Reserve the lowest free KeyID for `k` (mktme_reserve_keyid); 0 if none is free. */
export function mktme_reserve_keyid(k: key): number {
  const s = state();
  if (s.available === 0) return 0;
  for (let i = 1; i <= s.nr_keyids; i++) {
    if (s.map[i].state === KEYID_AVAILABLE) {
      s.map[i] = { key: k, state: KEYID_ASSIGNED, refs: 0, keyid_ctrl: 0, data_key: null, tweak_key: null };
      s.available--;
      return i;
    }
  }
  return 0;
}

/** Return a KeyID to the pool (mktme_release_keyid); stored key copies are wiped. */
export function mktme_release_keyid(keyid: number): void {
  const s = state();
  const m = s.map[keyid];
  m.data_key?.fill(0);
  m.tweak_key?.fill(0);
  s.map[keyid] = { key: null, state: KEYID_AVAILABLE, refs: 0, keyid_ctrl: 0, data_key: null, tweak_key: null };
  s.available++;
}

/** The KeyID assigned to an mktme key, or 0 (mktme_keyid_from_key). */
export function mktme_keyid_from_key(k: key): number {
  if (!mk) return 0;
  for (let i = 1; i <= mk.nr_keyids; i++) {
    if (mk.map[i].key === k && mk.map[i].state === KEYID_ASSIGNED) return i;
  }
  return 0;
}

/** Key programmed: the key holds the first reference; remember how to program it again. */
export function mktme_keyid_activate(keyid: number, keyid_ctrl: number,
  data_key: Uint8Array | null, tweak_key: Uint8Array | null): void {
  const s = state();
  const m = s.map[keyid];
  m.refs = 1;
  m.keyid_ctrl = keyid_ctrl;
  /* only "user" keys need their material to be reprogrammed, and only if allowed */
  if (s.storekeys && (keyid_ctrl & 0xff) === MKTME_KEYID_SET_KEY_DIRECT && data_key && tweak_key) {
    m.data_key = data_key.slice();
    m.tweak_key = tweak_key.slice();
  }
}

// --- programming ----------------------------------------------------------------------------

/** Program one package, retrying ENTROPY_ERROR / DEVICE_BUSY; returns the last status. */
function program_one(cpu: number, keyid: number, ctrl: number, f1: Uint8Array, f2: Uint8Array): number {
  let status = MKTME_PROG_SUCCESS;
  for (let tries = 0; tries < MKTME_PROGRAM_RETRIES; tries++) {
    status = state().ops.key_program(cpu, keyid, ctrl, f1, f2);
    if (!err_retry(status)) break;
  }
  return status;
}

/** CLEAR_KEY on the given packages: the KeyID goes back to the TME key. */
function clear_on(cpus: number[], keyid: number): boolean {
  const zero1 = new Uint8Array(MKTME_KEY_FIELD_SIZE);
  const zero2 = new Uint8Array(MKTME_KEY_FIELD_SIZE);
  let ok = true;
  for (const cpu of cpus) {
    const status = program_one(cpu, keyid, MKTME_KEYID_CLEAR_KEY | mktme_any_activated_alg(), zero1, zero2);
    if (status !== MKTME_PROG_SUCCESS) {
      state().ops.printk(`mktme: clear key failed [${err_msg(status)}]`);
      ok = false;
    }
  }
  return ok;
}

/**
 * Program `keyid` on the given lead CPUs (mktme_program_all_keytables), up to
 * MKTME_PROGRAM_RETRIES rounds while the failures are ENTROPY_ERROR or DEVICE_BUSY.
 * All or nothing: on failure the packages that took the key are cleared again.
 * Returns MKTME_PROG_SUCCESS or the failing status (logged as "mktme: <message>").
 */
export function mktme_program_all_keytables(cpus: number[], keyid: number, ctrl: number,
  f1: Uint8Array, f2: Uint8Array): number {
  const s = state();
  let pending = [...cpus];
  const done: number[] = [];
  let err = MKTME_PROG_SUCCESS;

  for (let round = 0; round < MKTME_PROGRAM_RETRIES && pending.length; round++) {
    const statuses: number[] = [];
    try {
      for (const cpu of pending) statuses.push(s.ops.key_program(cpu, keyid, ctrl, f1, f2));
    } catch (e) {
      // an oops in the middle: the packages that took the key give it back (best effort)
      done.push(...pending.slice(0, statuses.length).filter((_, i) => statuses[i] === MKTME_PROG_SUCCESS));
      try { clear_on(done, keyid); } catch { /* the same fault again: nothing more to do */ }
      throw e;
    }
    done.push(...pending.filter((_, i) => statuses[i] === MKTME_PROG_SUCCESS));
    const failed = statuses.filter((st) => st !== MKTME_PROG_SUCCESS);
    pending = pending.filter((_, i) => statuses[i] !== MKTME_PROG_SUCCESS);
    if (!failed.length) break;
    /* mktme_parse_program_status: a parameter error ends it at once; else BUSY beats ENTROPY */
    const fatal = failed.find((st) => !err_retry(st));
    err = fatal ?? (failed.includes(MKTME_DEVICE_BUSY) ? MKTME_DEVICE_BUSY : MKTME_ENTROPY_ERROR);
    if (fatal !== undefined) break;
  }
  if (!pending.length) return MKTME_PROG_SUCCESS;

  s.ops.printk(`mktme: ${err_msg(err)}`);
  clear_on(done, keyid);
  return err;
}

/**
 * Build the programming fields for one request and program every package
 * (mktme_program_keyid), on `cpus` or every lead CPU. Key bytes live only in the two field buffers, which are
 * zeroed as soon as the hardware has been told. SET_KEY_RANDOM mixes kernel entropy
 * into both fields. Returns MKTME_PROG_SUCCESS or a failing status.
 */
export function mktme_program_keyid(keyid: number, ctrl: number, data_key: Uint8Array | null,
  tweak_key: Uint8Array | null, key_size: number, cpus?: number[]): number {
  const s = state();
  const f1 = new Uint8Array(MKTME_KEY_FIELD_SIZE);
  const f2 = new Uint8Array(MKTME_KEY_FIELD_SIZE);
  try {
    if (data_key) f1.set(data_key.subarray(0, key_size));
    if (tweak_key) f2.set(tweak_key.subarray(0, key_size));
    if ((ctrl & 0xff) === MKTME_KEYID_SET_KEY_RANDOM && s.get_random_bytes && key_size > 0) {
      const kern_entropy = new Uint8Array(key_size);
      s.get_random_bytes(kern_entropy);
      for (let i = 0; i < key_size; i++) {
        f1[i] ^= kern_entropy[i];
        f2[i] ^= kern_entropy[i];
      }
      kern_entropy.fill(0);
    }
    return mktme_program_all_keytables(cpus ?? s.ops.lead_cpus(), keyid, ctrl, f1, f2);
  } finally {
    f1.fill(0);
    f2.fill(0);
  }
}

// --- references ---------------------------------------------------------------------------

/** Last reference gone (mktme_percpu_ref_release + mktme_clear_hardware_keyid). */
function mktme_keyid_released(keyid: number): void {
  const s = state();
  s.map[keyid].state = KEYID_REF_RELEASED;
  clear_on(s.ops.lead_cpus(), keyid);
  mktme_release_keyid(keyid);
}

function live(keyid: number): mktme_mapping | null {
  if (!mk || !Number.isInteger(keyid) || keyid < 1 || keyid > mk.nr_keyids) return null;
  const m = mk.map[keyid];
  return m.state === KEYID_ASSIGNED || m.state === KEYID_REF_KILLED ? m : null;
}

/** Take n references on a live KeyID (one per encrypted VMA / 4K page). 0 or -EINVAL. */
export function mktme_keyid_get(keyid: number, n = 1): number {
  const m = live(keyid);
  if (!m || !Number.isInteger(n) || n < 0) return -EINVAL;
  m.refs += n;
  return 0;
}

/**
 * Drop n references. The key's own reference can't be dropped this way (-EINVAL);
 * once the key is gone, the last put clears the KeyID on every package and frees it.
 */
export function mktme_keyid_put(keyid: number, n = 1): number {
  const m = live(keyid);
  if (!m || !Number.isInteger(n) || n < 0) return -EINVAL;
  const floor = m.state === KEYID_ASSIGNED ? 1 : 0;
  if (m.refs - n < floor) return -EINVAL;
  m.refs -= n;
  if (m.refs === 0) mktme_keyid_released(keyid);
  return 0;
}

/** The key is revoked or destroyed: drop its own reference (percpu_ref_kill). */
export function mktme_keyid_kill(keyid: number): void {
  const m = live(keyid);
  if (!m || m.state !== KEYID_ASSIGNED) return;
  m.key = null;
  m.state = KEYID_REF_KILLED;
  if (--m.refs === 0) mktme_keyid_released(keyid);
}

/** References and state of a KeyID, for /proc-style reporting and tests. */
export function mktme_keyid_info(keyid: number): { state: number; refs: number; serial: number } | number {
  if (!mk || keyid < 1 || keyid > mk.nr_keyids) return -EINVAL;
  const m = mk.map[keyid];
  return { state: m.state, refs: m.refs, serial: m.key ? m.key.serial : 0 };
}

/**
 * Program every live KeyID again, e.g. after a package reset (on `cpu` only, or on all
 * lead CPUs). CPU-generated keys get fresh random keys; "user" keys need the
 * mktme_storekeys boot option, else they cannot be restored. 0 or -ENOKEY if any failed.
 */
export function mktme_reprogram_all(cpu?: number): number {
  if (!mk) return 0;
  const s = mk;
  const targets = cpu === undefined ? s.ops.lead_cpus() : [cpu];
  let ret = 0;
  for (let keyid = 1; keyid <= s.nr_keyids; keyid++) {
    const m = live(keyid);
    if (!m) continue;
    const cmd = m.keyid_ctrl & 0xff;
    if (cmd === MKTME_KEYID_SET_KEY_DIRECT && !m.data_key) {
      s.ops.printk(`mktme: KeyID ${keyid}: key not stored, cannot reprogram`);
      ret = -ENOKEY;
      continue;
    }
    const key_size = m.keyid_ctrl & MKTME_AES_XTS_256 ? 32 : 16;
    if (mktme_program_keyid(keyid, m.keyid_ctrl, m.data_key, m.tweak_key, key_size, targets) !== 0) {
      ret = -ENOKEY;
    }
  }
  return ret;
}
