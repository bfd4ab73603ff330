/**
 * Keyrings (Linux security/keys/keyring.c): the "keyring" key type, whose payload is a
 * list of links to other keys; linking, unlinking, clearing, cycle detection, the
 * recursive search that also decides possession, and the garbage collector's sweep of
 * dead links.
 *
 * Linux keeps links in an assoc_array indexed by (type, description), so a keyring holds
 * at most one key per index: linking a second key with the same type and description
 * replaces the first. Here the links are an array in link order, which makes listings
 * and searches deterministic; the one-per-index rule is kept.
 */
import {
  EBUSY, EDEADLK, EAGAIN, EINVAL, EKEYEXPIRED, EKEYREVOKED, ELOOP, ENOENT, ENOKEY, ENOTDIR, EACCES,
} from './uapi.js';
import {
  KEY_FLAG_INVALIDATED, KEY_FLAG_REVOKED, KEY_FLAG_UID_KEYRING, KEY_IS_UNINSTANTIATED, TIME64_MAX,
  type key, type key_cred, type key_preparsed_payload, type key_ref_t, type key_type,
} from './types.js';
import {
  key_alloc, key_get, key_is_dead, key_is_positive, key_now, key_payload_reserve, key_put,
  key_state, make_key_ref, mark_key_instantiated, test_bit, 
} from './key.js';
import { KEY_NEED_SEARCH, key_task_permission } from './permission.js';
import { IS_ERR } from '../err.js';

/** Quota bytes charged to a keyring's owner per link (KEYQUOTA_LINK_BYTES). */
export const KEYQUOTA_LINK_BYTES = 4;

/* keyring_search_context flags (security/keys/internal.h). */
export const KEYRING_SEARCH_NO_STATE_CHECK = 0x0001; // skip state checks
export const KEYRING_SEARCH_DO_STATE_CHECK = 0x0002; // revoked/expired/negative keys fail
export const KEYRING_SEARCH_NO_UPDATE_TIME = 0x0004;
export const KEYRING_SEARCH_NO_CHECK_PERM = 0x0008;  // don't check permissions
export const KEYRING_SEARCH_DETECT_TOO = 0x0010;     // also match the top keyring
export const KEYRING_SEARCH_SKIP_EXPIRED = 0x0020;   // ignore expired keys (no error)
export const KEYRING_SEARCH_RECURSE = 0x0040;        // descend into nested keyrings
export const KEYRING_SEARCH_MAX_DEPTH = 6;

// --- the keyring key type ------------------------------------------------------------------

export const key_type_keyring: key_type = {
  name: 'keyring',
  def_datalen: 0,
  /* A keyring takes no payload. */
  preparse: (prep) => (prep.datalen !== 0 ? -EINVAL : 0),
  free_preparse: () => {},
  instantiate: (keyring) => {
    keyring.keys = [];
    return 0;
  },
  describe: (keyring) => {
    let s = keyring.description || '[anon]';
    if (key_is_positive(keyring)) {
      const n = keyring.keys?.length ?? 0;
      s += n !== 0 ? `: ${n}` : ': empty';
    }
    return s;
  },
  /* The payload as read(): the linked serials, 32-bit little-endian (keyring_read). */
  read: (keyring, buffer) => {
    const keys = keyring.keys ?? [];
    if (buffer) {
      const dv = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
      for (let i = 0; i < keys.length && (i + 1) * 4 <= buffer.length; i++) {
        dv.setInt32(i * 4, keys[i].serial, true);
      }
    }
    return keys.length * 4;
  },
  /* Revoking a keyring throws its links away (keyring_revoke). */
  revoke: (keyring) => {
    keyring_drop_links(keyring);
    key_payload_reserve(keyring, 0);
  },
  destroy: (keyring) => keyring_drop_links(keyring),
};

function keyring_drop_links(keyring: key): void {
  const keys = keyring.keys ?? [];
  keyring.keys = [];
  for (const k of keys) key_put(k);
}

// --- instantiate and link ------------------------------------------------------------------

/** A prepared link: room reserved in the keyring, committed by __key_link(). */
export interface key_link_edit {
  keyring: key;
  reserved: boolean;
  committed: boolean;
}

function link_index(keyring: key, ktype: key_type, description: string): number {
  return (keyring.keys ?? []).findIndex((k) => k.type === ktype && k.description === description);
}

/**
 * Prepare to link a key with this index into the keyring, reserving quota unless it will
 * replace an existing link (__key_link_begin). An edit, or -ENOTDIR / -EDQUOT.
 */
export function __key_link_begin(keyring: key, ktype: key_type, description: string): key_link_edit | number {
  if (keyring.type !== key_type_keyring) return -ENOTDIR;
  if (link_index(keyring, ktype, description) >= 0) return { keyring, reserved: false, committed: false };
  const ret = key_payload_reserve(keyring, keyring.datalen + KEYQUOTA_LINK_BYTES);
  if (ret < 0) return ret;
  return { keyring, reserved: true, committed: false };
}

/** Commit a prepared link; a link with the same index is displaced (__key_link). */
export function __key_link(k: key, edit: key_link_edit): void {
  const keys = edit.keyring.keys ?? (edit.keyring.keys = []);
  const idx = link_index(edit.keyring, k.type, k.description);
  edit.committed = true;
  if (idx >= 0) {
    const old = keys[idx];
    keys[idx] = key_get(k);
    key_put(old);
    if (edit.reserved) key_payload_reserve(edit.keyring, edit.keyring.datalen - KEYQUOTA_LINK_BYTES);
  } else {
    keys.push(key_get(k));
    if (!edit.reserved) key_payload_reserve(edit.keyring, edit.keyring.datalen + KEYQUOTA_LINK_BYTES);
  }
}

/** Give back the reservation of an edit that was not committed (__key_link_end). */
export function __key_link_end(edit: key_link_edit): void {
  if (!edit.committed && edit.reserved) {
    key_payload_reserve(edit.keyring, edit.keyring.datalen - KEYQUOTA_LINK_BYTES);
  }
}

/**
 * Instantiate a key from a preparsed payload and link it into `edit`'s keyring
 * (__key_instantiate_and_link). 0 or the type's -errno.
 */
export function __key_instantiate_and_link(k: key, prep: key_preparsed_payload,
  edit: key_link_edit | null): number {
  if (k.state !== KEY_IS_UNINSTANTIATED) return -EBUSY;
  const ret = k.type.instantiate(k, prep);
  if (ret !== 0) return ret;
  k.user.nikeys++;
  mark_key_instantiated(k, 0);
  if (edit) __key_link(k, edit);
  if (prep.expiry !== TIME64_MAX) k.expiry = prep.expiry;
  return 0;
}

/** Preparse `data`, instantiate the key and link it into `keyring` (key_instantiate_and_link). */
export function key_instantiate_and_link(k: key, data: Uint8Array | null, keyring: key | null,
  cred: key_cred): number {
  const prep: key_preparsed_payload = {
    cred, orig_description: k.description, description: null, data,
    datalen: data ? data.length : 0, quotalen: k.type.def_datalen, expiry: TIME64_MAX, payload: null,
  };
  let ret = k.type.preparse ? k.type.preparse(prep) : 0;
  if (ret === 0) {
    let edit: key_link_edit | null = null;
    if (keyring) {
      const e = __key_link_begin(keyring, k.type, k.description);
      if (IS_ERR(e)) ret = e;
      else edit = e;
    }
    if (ret === 0) ret = __key_instantiate_and_link(k, prep, edit);
    if (edit) __key_link_end(edit);
  }
  k.type.free_preparse?.(prep);
  return ret;
}

/**
 * Allocate and instantiate a keyring, optionally linked into `dest` (keyring_alloc).
 * The keyring with one reference, or -errno.
 */
export function keyring_alloc(description: string, uid: number, gid: number, cred: key_cred,
  perm: number, flags: number, dest: key | null): key | number {
  const keyring = key_alloc(key_type_keyring, description, uid, gid, cred, perm, flags);
  if (IS_ERR(keyring)) return keyring;
  const ret = key_instantiate_and_link(keyring, null, dest, cred);
  if (ret < 0) {
    key_put(keyring);
    return ret;
  }
  return keyring;
}

// --- link, unlink, clear ---------------------------------------------------------------------

/**
 * Link `k` into `keyring` (key_link). Linking a keyring that (transitively) contains
 * `keyring` is refused with -EDEADLK. 0, or -ENOTDIR / -EDEADLK / -ELOOP / -EDQUOT.
 */
export function key_link(keyring: key, k: key): number {
  if (keyring.type !== key_type_keyring) return -ENOTDIR;
  const idx = link_index(keyring, k.type, k.description);
  if (idx >= 0 && keyring.keys![idx] === k) return 0;
  if (k.type === key_type_keyring) {
    const ret = keyring_detect_cycle(keyring, k);
    if (ret < 0) return ret;
  }
  const edit = __key_link_begin(keyring, k.type, k.description);
  if (IS_ERR(edit)) return edit;
  __key_link(k, edit);
  __key_link_end(edit);
  return 0;
}

/** Remove the link to `k` (key_unlink). 0, or -ENOTDIR / -ENOENT. */
export function key_unlink(keyring: key, k: key): number {
  if (keyring.type !== key_type_keyring) return -ENOTDIR;
  const keys = keyring.keys ?? [];
  const idx = keys.indexOf(k);
  if (idx < 0) return -ENOENT;
  keys.splice(idx, 1);
  key_payload_reserve(keyring, keyring.datalen - KEYQUOTA_LINK_BYTES);
  key_put(k);
  return 0;
}

/** Unlink everything (keyring_clear). 0 or -ENOTDIR. */
export function keyring_clear(keyring: key): number {
  if (keyring.type !== key_type_keyring) return -ENOTDIR;
  keyring_drop_links(keyring);
  key_payload_reserve(keyring, 0);
  return 0;
}

/** Drop links to keys that are dead at time `limit` (keyring_gc). True if any went. */
export function keyring_gc(keyring: key, limit: number): boolean {
  const keys = keyring.keys;
  if (!keys) return false;
  const dead = keys.filter((k) => key_is_dead(k, limit));
  if (dead.length === 0) return false;
  keyring.keys = keys.filter((k) => !dead.includes(k));
  key_payload_reserve(keyring, keyring.keys.length * KEYQUOTA_LINK_BYTES);
  for (const k of dead) key_put(k);
  return true;
}

// --- search ----------------------------------------------------------------------------------

export interface keyring_search_context {
  cred: key_cred;
  /** The index key looked for. */
  type: key_type;
  description: string;
  /** match_data.cmp: further test on a key whose index matches. */
  cmp: (k: key) => boolean;
  flags: number;
  possessed: boolean;
  /** A key_ref once found; else -EAGAIN (nothing) or the last skip reason. */
  result: key_ref_t | number;
  now: number;
  aborted: boolean;
}

export function keyring_search_context_init(cred: key_cred, ktype: key_type, description: string,
  flags: number, cmp: (k: key) => boolean = () => true): keyring_search_context {
  return { cred, type: ktype, description, cmp, flags, possessed: false, result: -EAGAIN, now: 0, aborted: false };
}

/** Judge one key: 0 not it, 1 found, 2 matched but skipped (keyring_search_iterator). */
function keyring_search_iterator(k: key, ctx: keyring_search_context): 0 | 1 | 2 {
  if (k.type !== ctx.type || k.description !== ctx.description || !ctx.cmp(k)) return 0;
  if (ctx.flags & KEYRING_SEARCH_DO_STATE_CHECK) {
    if (test_bit(KEY_FLAG_INVALIDATED, k.flags) || test_bit(KEY_FLAG_REVOKED, k.flags)) {
      ctx.result = -EKEYREVOKED;
      return 2;
    }
    if (k.expiry !== TIME64_MAX && ctx.now >= k.expiry) {
      if (!(ctx.flags & KEYRING_SEARCH_SKIP_EXPIRED)) ctx.result = -EKEYEXPIRED;
      return 2;
    }
  }
  if (!(ctx.flags & KEYRING_SEARCH_NO_CHECK_PERM) &&
      key_task_permission(make_key_ref(k, ctx.possessed), ctx.cred, KEY_NEED_SEARCH) < 0) {
    ctx.result = -EACCES;
    return 2;
  }
  if ((ctx.flags & KEYRING_SEARCH_DO_STATE_CHECK) && k.state < 0) {
    ctx.result = k.state;
    return 2;
  }
  ctx.result = make_key_ref(k, ctx.possessed);
  return 1;
}

/** Keys of this keyring first, then its searchable nested keyrings, depth first. */
function search_keyring_level(keyring: key, ctx: keyring_search_context, depth: number): boolean {
  const keys = keyring.keys ?? [];
  for (const k of keys) if (keyring_search_iterator(k, ctx) === 1) return true;
  if (!(ctx.flags & KEYRING_SEARCH_RECURSE)) return false;
  for (const k of keys) {
    if (k.type !== key_type_keyring) continue;
    if (depth >= KEYRING_SEARCH_MAX_DEPTH) {
      if (ctx.flags & KEYRING_SEARCH_DETECT_TOO) {
        ctx.result = -ELOOP;
        ctx.aborted = true;
        return false;
      }
      continue;
    }
    if (!(ctx.flags & KEYRING_SEARCH_NO_CHECK_PERM) &&
        key_task_permission(make_key_ref(k, ctx.possessed), ctx.cred, KEY_NEED_SEARCH) < 0) continue;
    if (search_keyring_level(k, ctx, depth + 1)) return true;
    if (ctx.aborted) return false;
  }
  return false;
}

/** search_nested_keyrings(): the top keyring itself may be the match. */
function search_nested_keyrings(keyring: key, ctx: keyring_search_context): boolean {
  if ((ctx.flags & KEYRING_SEARCH_DETECT_TOO) ||
      (keyring.type === ctx.type && keyring.description === ctx.description)) {
    const r = keyring_search_iterator(keyring, ctx);
    if (r === 1) return true;
    if (r === 2) return false;
  }
  return search_keyring_level(keyring, ctx, 0);
}

/**
 * Search a keyring tree (keyring_search_rcu). Needs SEARCH on the top keyring; nested
 * keyrings without SEARCH are skipped. Possession carries from the top key_ref down.
 * A key_ref (with a reference), or -EAGAIN (nothing), -EKEYREVOKED, -EKEYEXPIRED,
 * -EACCES, -ENOTDIR.
 */
export function keyring_search_rcu(keyring_ref: key_ref_t, ctx: keyring_search_context): key_ref_t | number {
  ctx.possessed = keyring_ref.possessed;
  ctx.result = -EAGAIN;
  ctx.aborted = false;
  const keyring = keyring_ref.key;
  if (keyring.type !== key_type_keyring) return -ENOTDIR;
  if (!(ctx.flags & KEYRING_SEARCH_NO_CHECK_PERM)) {
    const err = key_task_permission(keyring_ref, ctx.cred, KEY_NEED_SEARCH);
    if (err < 0) return err;
  }
  ctx.now = key_now();
  search_nested_keyrings(keyring, ctx);
  const result = (ctx as keyring_search_context).result; // set by the search

  if (!IS_ERR(result)) key_get(result.key);
  return result;
}

/** Search for a live key of this type and description (keyring_search). */
export function keyring_search(keyring_ref: key_ref_t, ktype: key_type, description: string,
  recurse: boolean, cred: key_cred): key_ref_t | number {
  const flags = KEYRING_SEARCH_DO_STATE_CHECK | (recurse ? KEYRING_SEARCH_RECURSE : 0);
  return keyring_search_rcu(keyring_ref, keyring_search_context_init(cred, ktype, description, flags));
}

/** A cred for searches that check no permissions. */
const NO_CRED: key_cred = {
  uid: -1, gid: -1, groups: [], cap_permitted: 0n, cap_effective: 0n,
  thread_keyring: null, process_keyring: null, session_keyring: null,
};

/** -EDEADLK if `keyring` is `k` or reachable from `k` (keyring_detect_cycle); 0 otherwise. */
function keyring_detect_cycle(keyring: key, k: key): number {
  const ctx = keyring_search_context_init(
    NO_CRED, keyring.type, keyring.description,
    KEYRING_SEARCH_NO_STATE_CHECK | KEYRING_SEARCH_NO_UPDATE_TIME | KEYRING_SEARCH_NO_CHECK_PERM |
    KEYRING_SEARCH_DETECT_TOO | KEYRING_SEARCH_RECURSE,
    (c) => c === keyring);
  search_nested_keyrings(k, ctx);
  if (!IS_ERR(ctx.result)) return -EDEADLK;
  return ctx.result === -EAGAIN ? 0 : ctx.result;
}

/**
 * Find a named keyring the caller may search (find_keyring_by_name), oldest first.
 * uid_keyring selects the _uid.N/_uid_ses.N keyrings instead of ordinary ones.
 * The keyring with a reference, or -ENOKEY.
 */
export function find_keyring_by_name(name: string, uid_keyring: boolean, cred: key_cred): key | number {
  for (const k of key_state().serial_tree.values()) {
    if (k.type !== key_type_keyring || k.description !== name || k.usage === 0) continue;
    if (test_bit(KEY_FLAG_UID_KEYRING, k.flags) !== uid_keyring) continue;
    if (test_bit(KEY_FLAG_REVOKED, k.flags)) continue;
    if (key_task_permission(make_key_ref(k, false), cred, KEY_NEED_SEARCH) < 0) continue;
    return key_get(k);
  }
  return -ENOKEY;
}
