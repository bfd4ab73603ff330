/**
 * The three key-management system calls (Linux security/keys/keyctl.c): add_key(2),
 * request_key(2) and keyctl(2). Each takes the caller's credentials first; the rest are
 * Linux's arguments with strings and Uint8Arrays where C passes user pointers (a wrong
 * argument type reads as a bad pointer: -EFAULT). The kernel should run key_gc() after
 * each of them.
 */
import {
  EAGAIN, EFAULT, EINVAL, ENOKEY, EOPNOTSUPP, EPERM, KEY_PERM_UNDEF,
  KEYCTL_CHOWN, KEYCTL_CLEAR, KEYCTL_DESCRIBE, KEYCTL_GET_KEYRING_ID, KEYCTL_INVALIDATE,
  KEYCTL_JOIN_SESSION_KEYRING, KEYCTL_LINK, KEYCTL_READ, KEYCTL_REVOKE, KEYCTL_SEARCH,
  KEYCTL_SETPERM, KEYCTL_SET_TIMEOUT, KEYCTL_UNLINK, KEYCTL_UPDATE, KEYCTL_CAPABILITIES,
  KEYCTL_GET_PERSISTENT, KEYCTL_GET_SECURITY, KEYCTL_INSTANTIATE, KEYCTL_INSTANTIATE_IOV,
  KEYCTL_NEGATE, KEYCTL_REJECT,
} from './uapi.js';
import type { key_cred, key_ref_t } from './types.js';
import { KEY_ALLOC_IN_QUOTA, key_ref_put, key_type_lookup, key_validate } from './key.js';
import { key_create_or_update } from './key_create.js';
import {
  KEYRING_SEARCH_DO_STATE_CHECK, KEYRING_SEARCH_RECURSE, KEYRING_SEARCH_SKIP_EXPIRED, key_link,
  keyring_search_context_init,
} from './keyring.js';
import { KEY_NEED_WRITE } from './permission.js';
import { KEY_LOOKUP_CREATE, lookup_user_key, search_process_keyrings_rcu } from './process_keys.js';
import {
  key_check_description, key_check_type_name, keyctl_chown_key, keyctl_describe_key,
  keyctl_get_keyring_ID, keyctl_invalidate_key, keyctl_join_session_keyring, keyctl_keyring_clear,
  keyctl_keyring_link, keyctl_keyring_search, keyctl_keyring_unlink, keyctl_read_key,
  keyctl_revoke_key, keyctl_set_timeout, keyctl_setperm_key, keyctl_update_key,
  keyctl_capabilities, keyctl_get_security,
} from './keyctl.js';
import { keyctl_get_persistent } from './persistent.js';
import { IS_ERR } from '../err.js';

/** Largest add_key payload (1 MiB - 1). */
const ADD_KEY_MAX_PLEN = 1024 * 1024 - 1;

/**
 * add_key(2): create a key of `type` in keyring `ringid` (WRITE needed; special IDs are
 * created on demand), or update the matching key if the type supports update.
 * The key's serial, or -errno (-ENODEV unknown type, -EINVAL, -EACCES, -EDQUOT, ...).
 */
export function add_key(cred: key_cred, type: string, description: string | null,
  payload: Uint8Array | null, ringid: number): number {
  if (payload && payload.length > ADD_KEY_MAX_PLEN) return -EINVAL;
  let ret = key_check_type_name(type);
  if (ret < 0) return ret;

  let desc = description;
  if (desc !== null) {
    if ((ret = key_check_description(desc)) < 0) return ret;
    if (desc === '') desc = null;
    else if (desc[0] === '.' && type.startsWith('keyring')) return -EPERM;
  }
  const data = payload && payload.length ? payload : null;

  const keyring_ref = lookup_user_key(cred, ringid, KEY_LOOKUP_CREATE, KEY_NEED_WRITE);
  if (IS_ERR(keyring_ref)) return keyring_ref;
  const key_ref = key_create_or_update(cred, keyring_ref, type, desc, data, KEY_PERM_UNDEF, KEY_ALLOC_IN_QUOTA);
  key_ref_put(keyring_ref);
  if (IS_ERR(key_ref)) return key_ref;
  const serial = key_ref.key.serial;
  key_ref_put(key_ref);
  return serial;
}

/**
 * request_key(2): find a live key of this type and description in the caller's
 * keyrings and link it into destringid if non-zero. This kernel has no /sbin/request-key
 * upcall, so a key that is not already present gives -ENOKEY, as Linux does when the
 * upcall fails. The key's serial or -errno.
 */
export function request_key(cred: key_cred, type: string, description: string,
  _callout_info: string | null, destringid: number): number {
  let ret = key_check_type_name(type);
  if (ret === 0) ret = key_check_description(description);
  if (ret < 0) return ret;

  let dest_ref: key_ref_t | null = null;
  if (destringid) {
    const d = lookup_user_key(cred, destringid, KEY_LOOKUP_CREATE, KEY_NEED_WRITE);
    if (IS_ERR(d)) return d;
    dest_ref = d;
  }
  const done = (r: number): number => {
    if (dest_ref) key_ref_put(dest_ref);
    return r;
  };

  const ktype = key_type_lookup(type);
  if (IS_ERR(ktype)) return done(ktype);
  const found = search_process_keyrings_rcu(keyring_search_context_init(cred, ktype, description,
    KEYRING_SEARCH_DO_STATE_CHECK | KEYRING_SEARCH_SKIP_EXPIRED | KEYRING_SEARCH_RECURSE));
  if (IS_ERR(found)) return done(found === -EAGAIN ? -ENOKEY : found);

  ret = dest_ref ? key_link(dest_ref.key, found.key) : 0;
  if (ret === 0) ret = found.key.state < 0 ? found.key.state : key_validate(found.key);
  const serial = found.key.serial;
  key_ref_put(found);
  return done(ret < 0 ? ret : serial);
}

/** One keyctl(2) argument: a number, a string (char *), a buffer, or NULL. */
export type keyctl_arg = number | string | Uint8Array | null | undefined;

function num(a: keyctl_arg): number | null {
  if (a === null || a === undefined) return 0;
  return typeof a === 'number' && Number.isFinite(a) ? a : null;
}

/** A char * argument: NULL may be passed as null, undefined or 0. */
function str(a: keyctl_arg): string | null | undefined {
  if (a === null || a === undefined || a === 0) return null;
  return typeof a === 'string' ? a : undefined;
}

/** A buffer argument, cut to `len` if given. */
function buf(a: keyctl_arg, len: keyctl_arg): Uint8Array | null | undefined {
  if (a === null || a === undefined || a === 0) return null;
  if (!(a instanceof Uint8Array)) return undefined;
  return typeof len === 'number' && len >= 0 && len < a.length ? a.subarray(0, len) : a;
}

/**
 * keyctl(2): the command multiplexer. Supported: GET_KEYRING_ID, JOIN_SESSION_KEYRING,
 * UPDATE, REVOKE, CHOWN, SETPERM, DESCRIBE, CLEAR, LINK, UNLINK, SEARCH, READ,
 * SET_TIMEOUT, INVALIDATE, GET_SECURITY, GET_PERSISTENT, CAPABILITIES; INSTANTIATE,
 * NEGATE and REJECT fail with -EPERM (no authorisation key); anything else (DH, PKEY,
 * RESTRICT_KEYRING, MOVE, WATCH_KEY...) is -EOPNOTSUPP, as for an unknown command.
 */
export function keyctl(cred: key_cred, cmd: number, arg2?: keyctl_arg, arg3?: keyctl_arg,
  arg4?: keyctl_arg, arg5?: keyctl_arg): number {
  const a2 = num(arg2), a3 = num(arg3), a4 = num(arg4), a5 = num(arg5);
  const bad = -EFAULT;
  switch (cmd) {
    case KEYCTL_GET_KEYRING_ID:
      return a2 === null || a3 === null ? -EINVAL : keyctl_get_keyring_ID(cred, a2, a3);
    case KEYCTL_JOIN_SESSION_KEYRING: {
      const name = str(arg2);
      return name === undefined ? bad : keyctl_join_session_keyring(cred, name);
    }
    case KEYCTL_UPDATE: {
      const b = buf(arg3, arg4);
      return a2 === null ? -EINVAL : b === undefined ? bad : keyctl_update_key(cred, a2, b);
    }
    case KEYCTL_REVOKE:
      return a2 === null ? -EINVAL : keyctl_revoke_key(cred, a2);
    case KEYCTL_CHOWN:
      return a2 === null || a3 === null || a4 === null ? -EINVAL : keyctl_chown_key(cred, a2, a3, a4);
    case KEYCTL_SETPERM:
      return a2 === null || a3 === null ? -EINVAL : keyctl_setperm_key(cred, a2, a3);
    case KEYCTL_DESCRIBE: {
      const b = buf(arg3, arg4);
      return a2 === null ? -EINVAL : b === undefined ? bad : keyctl_describe_key(cred, a2, b);
    }
    case KEYCTL_CLEAR:
      return a2 === null ? -EINVAL : keyctl_keyring_clear(cred, a2);
    case KEYCTL_LINK:
      return a2 === null || a3 === null ? -EINVAL : keyctl_keyring_link(cred, a2, a3);
    case KEYCTL_UNLINK:
      return a2 === null || a3 === null ? -EINVAL : keyctl_keyring_unlink(cred, a2, a3);
    case KEYCTL_SEARCH: {
      const type = str(arg3), desc = str(arg4);
      if (a2 === null || a5 === null) return -EINVAL;
      if (!type || !desc) return bad;
      return keyctl_keyring_search(cred, a2, type, desc, a5);
    }
    case KEYCTL_READ: {
      const b = buf(arg3, arg4);
      return a2 === null ? -EINVAL : b === undefined ? bad : keyctl_read_key(cred, a2, b);
    }
    case KEYCTL_SET_TIMEOUT:
      return a2 === null || a3 === null ? -EINVAL : keyctl_set_timeout(cred, a2, a3);
    case KEYCTL_INVALIDATE:
      return a2 === null ? -EINVAL : keyctl_invalidate_key(cred, a2);
    case KEYCTL_GET_SECURITY: {
      const b = buf(arg3, arg4);
      return a2 === null ? -EINVAL : b === undefined ? bad : keyctl_get_security(cred, a2, b);
    }
    case KEYCTL_GET_PERSISTENT:
      return a2 === null || a3 === null ? -EINVAL : keyctl_get_persistent(cred, a2, a3);
    case KEYCTL_CAPABILITIES: {
      const b = buf(arg2, arg3);
      return b === undefined ? bad : keyctl_capabilities(b);
    }
    case KEYCTL_INSTANTIATE:
    case KEYCTL_INSTANTIATE_IOV:
    case KEYCTL_NEGATE:
    case KEYCTL_REJECT:
      // Only a request-key upcall holds the authorisation key these need
      // (keyctl_instantiate_key_common: no cred->request_key_auth, -EPERM); this kernel
      // has no upcall, so no caller ever holds one.
      return -EPERM;
    default:
      return -EOPNOTSUPP;
  }
}
