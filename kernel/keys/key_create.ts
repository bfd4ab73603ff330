/**
 * Creating and updating keys from userspace data (Linux security/keys/key.c:
 * key_create_or_update, key_update, and keyring.c: find_key_to_update).
 *
 * Order of checks is Linux's: type, preparse (where a type such as mktme refuses the
 * caller or the payload), link room in the keyring, WRITE on the keyring, update of a
 * matching key if the type can, and only then allocation (quota) and instantiation.
 */
import { EEXIST, EINVAL, ENODEV, ENOTDIR, EOPNOTSUPP, KEY_PERM_UNDEF,
  KEY_POS_LINK, KEY_POS_READ, KEY_POS_SEARCH, KEY_POS_SETATTR, KEY_POS_VIEW, KEY_POS_WRITE,
  KEY_USR_VIEW } from './uapi.js';
import {
  KEY_FLAG_INVALIDATED, KEY_FLAG_REVOKED, TIME64_MAX,
  type key_cred, type key_preparsed_payload, type key_ref_t, type key_type,
} from './types.js';
import {
  key_alloc, key_get, key_put, key_type_lookup, make_key_ref, mark_key_instantiated, test_bit,
} from './key.js';
import {
  __key_instantiate_and_link, __key_link_begin, __key_link_end, key_type_keyring,
} from './keyring.js';
import { KEY_NEED_WRITE, key_task_permission } from './permission.js';
import { IS_ERR } from '../err.js';

function prep_init(cred: key_cred, ktype: key_type, description: string | null,
  payload: Uint8Array | null): key_preparsed_payload {
  return {
    cred, orig_description: description, description: null, data: payload,
    datalen: payload ? payload.length : 0, quotalen: ktype.def_datalen, expiry: TIME64_MAX, payload: null,
  };
}

/** A live key with this index directly in the keyring (find_key_to_update), with a reference. */
export function find_key_to_update(keyring_ref: key_ref_t, ktype: key_type, description: string): key_ref_t | null {
  const k = (keyring_ref.key.keys ?? []).find((c) => c.type === ktype && c.description === description);
  if (!k) return null;
  if (test_bit(KEY_FLAG_INVALIDATED, k.flags) || test_bit(KEY_FLAG_REVOKED, k.flags)) return null;
  return make_key_ref(key_get(k), keyring_ref.possessed);
}

/** Update through the type, needing WRITE (__key_update). Consumes the ref's reference. */
function __key_update(key_ref: key_ref_t, prep: key_preparsed_payload, cred: key_cred): key_ref_t | number {
  const k = key_ref.key;
  let ret = key_task_permission(key_ref, cred, KEY_NEED_WRITE);
  if (ret === 0) ret = k.type.update ? k.type.update(k, prep) : -EEXIST;
  if (ret < 0) {
    key_put(k);
    return ret;
  }
  mark_key_instantiated(k, 0); // updating a negative key positively instantiates it
  return key_ref;
}

/**
 * Add a key to a keyring, or update the keyring's matching key if the type supports
 * update (key_create_or_update). The caller must have looked up the keyring with
 * KEY_NEED_WRITE. perm KEY_PERM_UNDEF picks Linux's defaults: possessor
 * view/search/link/setattr (+read if readable, +write if updatable or a keyring) and
 * owner view. Returns a key_ref with a reference, or -ENODEV (unknown type), -ENOTDIR,
 * -EINVAL, -EACCES, -EDQUOT or the type's error.
 */
export function key_create_or_update(cred: key_cred, keyring_ref: key_ref_t, type: string,
  description: string | null, payload: Uint8Array | null, perm: number, flags: number): key_ref_t | number {
  const ktype = key_type_lookup(type);
  if (IS_ERR(ktype)) return -ENODEV;
  if (!description && !ktype.preparse) return -EINVAL;
  const keyring = keyring_ref.key;
  if (keyring.type !== key_type_keyring) return -ENOTDIR;

  const prep = prep_init(cred, ktype, description, payload);
  const finish = (r: key_ref_t | number): key_ref_t | number => {
    ktype.free_preparse?.(prep);
    return r;
  };

  if (ktype.preparse) {
    const ret = ktype.preparse(prep);
    if (ret < 0) return finish(ret);
    if (!description) description = prep.description;
    if (!description) return finish(-EINVAL);
  }
  const desc = description!;

  const edit = __key_link_begin(keyring, ktype, desc);
  if (IS_ERR(edit)) return finish(edit);
  const fail = (err: number): key_ref_t | number => {
    __key_link_end(edit);
    return finish(err);
  };

  /* if we're going to allocate a new key, we're going to have to modify the keyring */
  const wret = key_task_permission(keyring_ref, cred, KEY_NEED_WRITE);
  if (wret < 0) return fail(wret);

  if (ktype.update) {
    const match = find_key_to_update(keyring_ref, ktype, desc);
    if (match) {
      __key_link_end(edit);
      return finish(__key_update(match, prep, cred));
    }
  }

  if (perm === KEY_PERM_UNDEF) {
    perm = KEY_POS_VIEW | KEY_POS_SEARCH | KEY_POS_LINK | KEY_POS_SETATTR | KEY_USR_VIEW;
    if (ktype.read) perm |= KEY_POS_READ;
    if (ktype === key_type_keyring || ktype.update) perm |= KEY_POS_WRITE;
  }

  const k = key_alloc(ktype, desc, cred.uid, cred.gid, cred, perm, flags);
  if (IS_ERR(k)) return fail(k);

  let ret: number;
  try {
    ret = __key_instantiate_and_link(k, prep, edit);
  } catch (e) {
    // an oops during instantiation: nothing of the new key may stay behind
    key_put(k);
    __key_link_end(edit);
    finish(0);
    throw e;
  }
  if (ret < 0) {
    key_put(k);
    return fail(ret);
  }
  __key_link_end(edit);
  return finish(make_key_ref(k, keyring_ref.possessed));
}

/** Replace a key's payload through its type, needing WRITE (key_update). 0 or -errno. */
export function key_update(cred: key_cred, key_ref: key_ref_t, payload: Uint8Array | null): number {
  const k = key_ref.key;
  let ret = key_task_permission(key_ref, cred, KEY_NEED_WRITE);
  if (ret < 0) return ret;
  if (!k.type.update) return -EOPNOTSUPP;
  const prep = prep_init(cred, k.type, k.description, payload);
  ret = k.type.preparse ? k.type.preparse(prep) : 0;
  if (ret === 0) {
    ret = k.type.update(k, prep);
    if (ret === 0) mark_key_instantiated(k, 0);
  }
  k.type.free_preparse?.(prep);
  return ret;
}
