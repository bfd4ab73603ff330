/**
 * Per-UID persistent keyrings (Linux security/keys/persistent.c): `_persistent.UID`,
 * pinned by the `.persistent_register` keyring so it outlives the user's sessions, and
 * expiring after persistent_keyring_expiry seconds of non-use (each
 * KEYCTL_GET_PERSISTENT resets the timer). The single user namespace of this kernel
 * holds the register.
 */
import { ENOTDIR, EINVAL, EPERM, KEY_POS_ALL, KEY_POS_SETATTR, KEY_USR_READ, KEY_USR_VIEW } from './uapi.js';
import { INVALID_GID, type key, type key_cred, type key_ref_t } from './types.js';
import { KEY_ALLOC_NOT_IN_QUOTA, key_ref_put, key_set_timeout, key_state, make_key_ref } from './key.js';
import { IS_ERR } from '../err.js';
import { key_link, key_type_keyring, keyring_alloc } from './keyring.js';
import { find_key_to_update } from './key_create.js';
import { KEY_NEED_LINK, KEY_NEED_WRITE, capable, key_task_permission } from './permission.js';
import { KEY_LOOKUP_CREATE, lookup_user_key } from './process_keys.js';

/** /proc/sys/kernel/keys/persistent_keyring_expiry: 3 days of non-use. */
export const persistent_keyring_expiry = 3 * 24 * 3600;

/** include/uapi/linux/capability.h */
const CAP_SETUID = 7;

const PERSISTENT_PERM = (KEY_POS_ALL & ~KEY_POS_SETATTR) | KEY_USR_VIEW | KEY_USR_READ;

function key_create_persistent_register(cred: key_cred): key | number {
  const reg = keyring_alloc('.persistent_register', 0, 0, cred, PERSISTENT_PERM, KEY_ALLOC_NOT_IN_QUOTA, null);
  if (IS_ERR(reg)) return reg;
  key_state().persistent_keyring_register = reg;
  return reg;
}

function key_get_persistent(cred: key_cred, uid: number, dest_ref: key_ref_t): number {
  const s = key_state();
  const desc = `_persistent.${uid}`;
  let persistent_ref: key_ref_t | null = null;
  if (s.persistent_keyring_register) {
    persistent_ref = find_key_to_update(make_key_ref(s.persistent_keyring_register, true), key_type_keyring, desc);
  }
  if (!persistent_ref) {
    let reg = s.persistent_keyring_register;
    if (!reg) {
      const r = key_create_persistent_register(cred);
      if (IS_ERR(r)) return r;
      reg = r;
    }
    const k = keyring_alloc(desc, uid, INVALID_GID, cred, PERSISTENT_PERM, KEY_ALLOC_NOT_IN_QUOTA, reg);
    if (IS_ERR(k)) return k;
    persistent_ref = make_key_ref(k, true);
  }
  let ret = key_task_permission(persistent_ref, cred, KEY_NEED_LINK);
  if (ret === 0) {
    const persistent = persistent_ref.key;
    ret = key_link(dest_ref.key, persistent);
    if (ret === 0) {
      key_set_timeout(persistent, persistent_keyring_expiry);
      ret = persistent.serial;
    }
  }
  key_ref_put(persistent_ref);
  return ret;
}

/** KEYCTL_GET_PERSISTENT: uid -1 is the caller; another uid needs CAP_SETUID. */
export function keyctl_get_persistent(cred: key_cred, uid: number, destid: number): number {
  if (uid === 0xffffffff || uid === -1) {
    uid = cred.uid;
  } else {
    if (!Number.isInteger(uid) || uid < 0 || uid > 0xfffffffe) return -EINVAL;
    // You can only see your own persistent cache if you're not sufficiently privileged.
    if (uid !== cred.uid && !capable(cred, CAP_SETUID)) return -EPERM;
  }
  const dest_ref = lookup_user_key(cred, destid, KEY_LOOKUP_CREATE, KEY_NEED_WRITE);
  if (IS_ERR(dest_ref)) return dest_ref;
  const ret = dest_ref.key.type !== key_type_keyring ? -ENOTDIR : key_get_persistent(cred, uid, dest_ref);
  key_ref_put(dest_ref);
  return ret;
}
