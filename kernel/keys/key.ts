/**
 * Key objects: allocation, serial numbers, quotas, references, instantiation, revoke,
 * invalidate, timeouts (Linux security/keys/key.c).
 *
 * State: the whole key service keeps its state in one `key_state` record, replaced by
 * key_service_reset() (called from key_init() at boot, so every booted kernel starts
 * clean). Time comes from the injected virtual clock, serial numbers from a seeded
 * generator: two boots with the same inputs give the same serials.
 *
 * Keyrings, lookups and syscalls build on this file; it imports none of them.
 */
import { EDQUOT, EEXIST, EINVAL, EKEYEXPIRED, EKEYREVOKED, ENOKEY } from './uapi.js';
import {
  KEY_FLAG_DEAD, KEY_FLAG_IN_QUOTA, KEY_FLAG_INVALIDATED, KEY_FLAG_REVOKED, KEY_FLAG_UID_KEYRING,
  KEY_IS_POSITIVE, KEY_IS_UNINSTANTIATED, TIME64_MAX,
  type key, type key_cred, type key_ref_t, type key_type, type key_user,
} from './types.js';

/* key_alloc() flags (include/linux/key.h). */
export const KEY_ALLOC_IN_QUOTA = 0x0000;
export const KEY_ALLOC_QUOTA_OVERRUN = 0x0001; // add to quota, permit even if overrun
export const KEY_ALLOC_NOT_IN_QUOTA = 0x0002;
export const KEY_ALLOC_BUILT_IN = 0x0004;
export const KEY_ALLOC_BYPASS_RESTRICTION = 0x0008;
export const KEY_ALLOC_UID_KEYRING = 0x0010;

/** Longest description add_key accepts, NUL included (KEY_MAX_DESC_SIZE). */
export const KEY_MAX_DESC_SIZE = 4096;

export interface key_service_options {
  /** The virtual clock, in seconds (Linux: ktime_get_real_seconds()). */
  now: () => number;
  /** Seed of the serial-number generator (Linux draws serials from get_random_bytes). */
  serial_seed?: number;
  /** /proc/sys/kernel/keys/gc_delay: seconds a revoked/expired key lingers in keyrings. */
  gc_delay?: number;
  /** /proc/sys/kernel/keys/{maxkeys,maxbytes,root_maxkeys,root_maxbytes}. */
  maxkeys?: number;
  maxbytes?: number;
  root_maxkeys?: number;
  root_maxbytes?: number;
}

interface key_state {
  now: () => number;
  random_u32: () => number;
  gc_delay: number;
  maxkeys: number;
  maxbytes: number;
  root_maxkeys: number;
  root_maxbytes: number;
  /** key_serial_tree: every key that has not been destroyed yet. */
  serial_tree: Map<number, key>;
  /** key_user_tree. */
  user_tree: Map<number, key_user>;
  key_types: Map<string, key_type>;
  /** user_ns->user_keyring_register: pins the _uid.N / _uid_ses.N keyrings. */
  user_keyring_register: key | null;
  /** user_ns->persistent_keyring_register: pins the _persistent.N keyrings. */
  persistent_keyring_register: key | null;
}

let ks: key_state | null = null;

/** The live state; a key service call before key_init() is a kernel bug. */
export function key_state(): key_state {
  if (!ks) throw new Error('keys: key service used before key_init()');
  return ks;
}

/** Forget every key, user and type; start from the given clock and seed. */
export function key_service_reset(opts: key_service_options): void {
  ks = {
    now: opts.now,
    random_u32: mulberry32(opts.serial_seed ?? 0x4b455953),
    gc_delay: opts.gc_delay ?? 5 * 60,
    maxkeys: opts.maxkeys ?? 200,
    maxbytes: opts.maxbytes ?? 20000,
    root_maxkeys: opts.root_maxkeys ?? 1000000,
    root_maxbytes: opts.root_maxbytes ?? 25000000,
    serial_tree: new Map(),
    user_tree: new Map(),
    key_types: new Map(),
    user_keyring_register: null,
    persistent_keyring_register: null,
  };
}

/** Seconds on the virtual clock. */
export function key_now(): number { return key_state().now(); }

/** A small seeded 32-bit generator (mulberry32): deterministic stand-in for the RNG. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

// --- small helpers shared by the whole service ------------------------------------------

export function test_bit(nr: number, flags: number): boolean { return (flags & (1 << nr)) !== 0; }
export function make_key_ref(key: key, possessed: boolean): key_ref_t { return { key, possessed }; }
export function key_ref_to_ptr(ref: key_ref_t): key { return ref.key; }
export function is_key_possessed(ref: key_ref_t): boolean { return ref.possessed; }
export function key_is_positive(key: key): boolean { return key.state === KEY_IS_POSITIVE; }

const utf8 = new TextEncoder();
/** strlen() of a description as the kernel would see it (UTF-8 bytes). */
export function desc_len(s: string): number { return utf8.encode(s).length; }

// --- key types (register_key_type / key_type_lookup) --------------------------------------

/** 0, or -EEXIST if a type of that name is registered. */
export function register_key_type(ktype: key_type): number {
  const s = key_state();
  if (s.key_types.has(ktype.name)) return -EEXIST;
  s.key_types.set(ktype.name, ktype);
  return 0;
}

/** The registered type, or -ENOKEY (callers turn that into -ENODEV where Linux does). */
export function key_type_lookup(name: string): key_type | number {
  return key_state().key_types.get(name) ?? -ENOKEY;
}

// --- key_user: per-uid accounting ----------------------------------------------------------

/** Find or create the uid's record, taking a reference (key_user_lookup). */
export function key_user_lookup(uid: number): key_user {
  const s = key_state();
  let user = s.user_tree.get(uid);
  if (!user) {
    user = { uid, usage: 0, nkeys: 0, nikeys: 0, qnkeys: 0, qnbytes: 0 };
    s.user_tree.set(uid, user);
  }
  user.usage++;
  return user;
}

/** Drop a reference; the record goes away with the last one (key_user_put). */
export function key_user_put(user: key_user): void {
  if (--user.usage === 0) key_state().user_tree.delete(user.uid);
}

/** The quota limits for a uid: root gets root_maxkeys / root_maxbytes. */
export function key_quota_limits(uid: number): { maxkeys: number; maxbytes: number } {
  const s = key_state();
  return uid === 0
    ? { maxkeys: s.root_maxkeys, maxbytes: s.root_maxbytes }
    : { maxkeys: s.maxkeys, maxbytes: s.maxbytes };
}

// --- allocation ------------------------------------------------------------------------------

/** Pick an unused random serial >= 3 (key_alloc_serial). */
function key_alloc_serial(): number {
  const tree = key_state().serial_tree;
  let serial: number;
  do {
    serial = key_state().random_u32() >>> 1; // negative numbers are not permitted
  } while (serial < 3);
  while (tree.has(serial)) {
    serial++;
    if (serial > 0x7fffffff) serial = 3;
  }
  return serial;
}

/**
 * Allocate an uninstantiated key owned by uid/gid, charging the owner's quota with the
 * description (key_alloc). Returns the key with one reference, or -EINVAL (empty
 * description) / -EDQUOT (quota exceeded).
 */
export function key_alloc(ktype: key_type, desc: string, uid: number, gid: number,
  _cred: key_cred, perm: number, flags: number): key | number {
  if (!desc) return -EINVAL;
  if (ktype.vet_description) {
    const ret = ktype.vet_description(desc);
    if (ret < 0) return ret;
  }
  const quotalen = desc_len(desc) + 1 + ktype.def_datalen;
  const user = key_user_lookup(uid);

  if (!(flags & KEY_ALLOC_NOT_IN_QUOTA)) {
    const { maxkeys, maxbytes } = key_quota_limits(uid);
    if (!(flags & KEY_ALLOC_QUOTA_OVERRUN) &&
        (user.qnkeys + 1 > maxkeys || user.qnbytes + quotalen > maxbytes)) {
      key_user_put(user);
      return -EDQUOT;
    }
    user.qnkeys++;
    user.qnbytes += quotalen;
  }

  const k: key = {
    serial: 0, type: ktype, description: desc, uid, gid, perm,
    flags: 0, state: KEY_IS_UNINSTANTIATED, expiry: TIME64_MAX, revoked_at: 0,
    last_used_at: key_now(), usage: 1, datalen: ktype.def_datalen, quotalen,
    user, payload: null, keys: null,
  };
  if (!(flags & KEY_ALLOC_NOT_IN_QUOTA)) k.flags |= 1 << KEY_FLAG_IN_QUOTA;
  if (flags & KEY_ALLOC_UID_KEYRING) k.flags |= 1 << KEY_FLAG_UID_KEYRING;
  user.nkeys++;
  k.serial = key_alloc_serial();
  key_state().serial_tree.set(k.serial, k);
  return k;
}

/**
 * Change the quota-charged payload size to datalen (key_payload_reserve).
 * 0, or -EDQUOT if growing would exceed the owner's byte quota.
 */
export function key_payload_reserve(k: key, datalen: number): number {
  const delta = datalen - k.datalen;
  if (delta !== 0 && test_bit(KEY_FLAG_IN_QUOTA, k.flags)) {
    const { maxbytes } = key_quota_limits(k.user.uid);
    if (delta > 0 && k.user.qnbytes + delta > maxbytes) return -EDQUOT;
    k.user.qnbytes += delta;
    k.quotalen += delta;
  }
  k.datalen = datalen;
  return 0;
}

/** Mark a key positive, or negative with -reject_error (mark_key_instantiated). */
export function mark_key_instantiated(k: key, reject_error: number): void {
  k.state = reject_error ? -reject_error : KEY_IS_POSITIVE;
}

// --- references ------------------------------------------------------------------------------

export function key_get(k: key): key {
  k.usage++;
  return k;
}

/** Drop a reference. An unreferenced key is destroyed by the next key_gc(). */
export function key_put(k: key | null): void {
  if (!k) return;
  if (k.usage <= 0) throw new Error(`keys: key_put: usage underflow on key ${k.serial}`);
  k.usage--;
}

export function key_ref_put(ref: key_ref_t): void { key_put(ref.key); }

/** Find a key by serial, with a reference (key_lookup). -ENOKEY if absent or unreferenced. */
export function key_lookup(id: number): key | number {
  const k = key_state().serial_tree.get(id);
  if (!k || k.usage === 0) return -ENOKEY; // awaiting the garbage collector
  return key_get(k);
}

// --- state changes -------------------------------------------------------------------------

/** Revoke a key: the type drops what it pins; the key is reaped gc_delay later (key_revoke). */
export function key_revoke(k: key): void {
  if (test_bit(KEY_FLAG_REVOKED, k.flags)) return;
  k.flags |= 1 << KEY_FLAG_REVOKED;
  k.type.revoke?.(k);
  // Linux keeps expiry and revoked_at in one union (include/linux/key.h), so revoking
  // also makes the key expire now: /proc/keys shows "expd" for it.
  const time = key_now();
  if (k.revoked_at === 0 || k.revoked_at > time) k.revoked_at = time;
  if (k.expiry > time) k.expiry = time;
}

/** Invalidate a key: the next key_gc() unlinks it everywhere (key_invalidate). */
export function key_invalidate(k: key): void {
  k.flags |= 1 << KEY_FLAG_INVALIDATED;
}

/** Expire the key `timeout` seconds from now; 0 clears the timeout (key_set_timeout). */
export function key_set_timeout(k: key, timeout: number): void {
  k.expiry = timeout > 0 ? key_now() + timeout : TIME64_MAX;
}

/** 0 if the key is usable: -ENOKEY invalidated, -EKEYREVOKED revoked/dead, -EKEYEXPIRED (key_validate). */
export function key_validate(k: key): number {
  if (test_bit(KEY_FLAG_INVALIDATED, k.flags)) return -ENOKEY;
  if (test_bit(KEY_FLAG_REVOKED, k.flags) || test_bit(KEY_FLAG_DEAD, k.flags)) return -EKEYREVOKED;
  if (k.expiry !== TIME64_MAX && key_now() >= k.expiry) return -EKEYEXPIRED;
  return 0;
}

/** The key's state as a read would see it: <0 for a negative key (key_read_state). */
export function key_read_state(k: key): number { return k.state; }

/**
 * Whether the garbage collector should unlink the key from keyrings at time `limit`
 * (key_is_dead): expired or revoked more than gc_delay ago, dead or invalidated.
 */
export function key_is_dead(k: key, limit: number): boolean {
  const delay = key_state().gc_delay;
  if (k.expiry !== TIME64_MAX && k.expiry + delay <= limit) return true;
  if (test_bit(KEY_FLAG_REVOKED, k.flags) && k.revoked_at + delay <= limit) return true;
  return test_bit(KEY_FLAG_DEAD, k.flags) || test_bit(KEY_FLAG_INVALIDATED, k.flags);
}
