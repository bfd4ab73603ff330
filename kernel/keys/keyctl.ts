/**
 * The keyctl() commands (Linux security/keys/keyctl.c), one function per command, each
 * taking the caller's credentials first and returning a result >= 0 or -errno.
 * Userspace buffers are Uint8Arrays: like Linux, DESCRIBE and READ return the full
 * length and copy only when the buffer is big enough.
 */
import {
  EACCES, EAGAIN, EDQUOT, EINVAL, ENOKEY, EOPNOTSUPP, EPERM,
  KEY_GRP_ALL, KEY_OTH_ALL, KEY_POS_ALL, KEY_USR_ALL,
  KEYCTL_CAPS0_CAPABILITIES, KEYCTL_CAPS0_INVALIDATE, KEYCTL_CAPS0_PERSISTENT_KEYRINGS,
} from './uapi.js';
import { KEY_FLAG_IN_QUOTA, KEY_FLAG_KEEP, KEY_IS_UNINSTANTIATED, OVERFLOW_ID, type key, type key_cred } from './types.js';
import {
  KEY_MAX_DESC_SIZE, desc_len, key_invalidate, key_quota_limits, key_read_state,
  key_ref_put, key_revoke, key_set_timeout, key_type_lookup, key_user_lookup, key_user_put,
  key_validate, test_bit,
} from './key.js';
import { key_link, key_unlink, keyring_clear, keyring_search } from './keyring.js';
import {
  CAP_SYS_ADMIN, KEY_DEFER_PERM_CHECK, KEY_NEED_LINK, KEY_NEED_READ, KEY_NEED_SEARCH,
  KEY_NEED_SETATTR, KEY_NEED_UNLINK, KEY_NEED_VIEW, KEY_NEED_WRITE, capable, in_group_p,
  key_task_permission,
} from './permission.js';
import {
  KEY_LOOKUP_CREATE, KEY_LOOKUP_PARTIAL, join_session_keyring, lookup_user_key,
} from './process_keys.js';
import { key_update } from './key_create.js';
import { IS_ERR } from '../err.js';

/** Largest KEYCTL_UPDATE payload (PAGE_SIZE). */
const KEYCTL_UPDATE_MAX = 4096;

/** Check a type name from userspace (key_get_type_from_user): -EINVAL, -EPERM for ".x". */
export function key_check_type_name(type: string): number {
  if (type.length === 0 || desc_len(type) >= 32) return -EINVAL;
  if (type[0] === '.') return -EPERM;
  return 0;
}

/** A description from userspace (strndup_user with KEY_MAX_DESC_SIZE). */
export function key_check_description(desc: string): number {
  return desc_len(desc) >= KEY_MAX_DESC_SIZE ? -EINVAL : 0;
}

/** uid/gid as from_k[ug]id_munged prints them: invalid becomes 65534. */
function munged(id: number): number { return id < 0 ? OVERFLOW_ID : id; }

/** KEYCTL_GET_KEYRING_ID: the serial of a (special) keyring, creating it if asked. */
export function keyctl_get_keyring_ID(cred: key_cred, id: number, create: number): number {
  const key_ref = lookup_user_key(cred, id, create ? KEY_LOOKUP_CREATE : 0, KEY_NEED_SEARCH);
  if (IS_ERR(key_ref)) return key_ref;
  const serial = key_ref.key.serial;
  key_ref_put(key_ref);
  return serial;
}

/** KEYCTL_JOIN_SESSION_KEYRING: null name = new anonymous session. */
export function keyctl_join_session_keyring(cred: key_cred, name: string | null): number {
  if (name !== null) {
    const ret = key_check_description(name);
    if (ret < 0) return ret;
  }
  return join_session_keyring(cred, name);
}

/** KEYCTL_UPDATE: replace the payload (needs WRITE; -EOPNOTSUPP if the type can't). */
export function keyctl_update_key(cred: key_cred, id: number, payload: Uint8Array | null): number {
  if (payload && payload.length > KEYCTL_UPDATE_MAX) return -EINVAL;
  const key_ref = lookup_user_key(cred, id, 0, KEY_NEED_WRITE);
  if (IS_ERR(key_ref)) return key_ref;
  const ret = key_update(cred, key_ref, payload);
  key_ref_put(key_ref);
  return ret;
}

/** KEYCTL_REVOKE: needs WRITE, or failing that SETATTR. */
export function keyctl_revoke_key(cred: key_cred, id: number): number {
  let key_ref = lookup_user_key(cred, id, 0, KEY_NEED_WRITE);
  if (key_ref === -EACCES) key_ref = lookup_user_key(cred, id, 0, KEY_NEED_SETATTR);
  if (IS_ERR(key_ref)) return key_ref;
  let ret = 0;
  if (test_bit(KEY_FLAG_KEEP, key_ref.key.flags)) ret = -EPERM;
  else key_revoke(key_ref.key);
  key_ref_put(key_ref);
  return ret;
}

/** KEYCTL_INVALIDATE: needs SEARCH; the key goes at the next key_gc(). */
export function keyctl_invalidate_key(cred: key_cred, id: number): number {
  const key_ref = lookup_user_key(cred, id, 0, KEY_NEED_SEARCH);
  if (IS_ERR(key_ref)) return key_ref;
  let ret = 0;
  if (test_bit(KEY_FLAG_KEEP, key_ref.key.flags)) ret = -EPERM;
  else key_invalidate(key_ref.key);
  key_ref_put(key_ref);
  return ret;
}

/** KEYCTL_CLEAR: unlink everything from a keyring (needs WRITE). */
export function keyctl_keyring_clear(cred: key_cred, ringid: number): number {
  const keyring_ref = lookup_user_key(cred, ringid, KEY_LOOKUP_CREATE, KEY_NEED_WRITE);
  if (IS_ERR(keyring_ref)) return keyring_ref;
  const ret = keyring_clear(keyring_ref.key);
  key_ref_put(keyring_ref);
  return ret;
}

/** KEYCTL_LINK: WRITE on the keyring, LINK on the key. */
export function keyctl_keyring_link(cred: key_cred, id: number, ringid: number): number {
  const keyring_ref = lookup_user_key(cred, ringid, KEY_LOOKUP_CREATE, KEY_NEED_WRITE);
  if (IS_ERR(keyring_ref)) return keyring_ref;
  const key_ref = lookup_user_key(cred, id, KEY_LOOKUP_CREATE, KEY_NEED_LINK);
  if (IS_ERR(key_ref)) {
    key_ref_put(keyring_ref);
    return key_ref;
  }
  const ret = key_link(keyring_ref.key, key_ref.key);
  key_ref_put(key_ref);
  key_ref_put(keyring_ref);
  return ret;
}

/** KEYCTL_UNLINK: WRITE on the keyring; the key itself needs no permission. */
export function keyctl_keyring_unlink(cred: key_cred, id: number, ringid: number): number {
  const keyring_ref = lookup_user_key(cred, ringid, 0, KEY_NEED_WRITE);
  if (IS_ERR(keyring_ref)) return keyring_ref;
  const key_ref = lookup_user_key(cred, id, KEY_LOOKUP_PARTIAL, KEY_NEED_UNLINK);
  if (IS_ERR(key_ref)) {
    key_ref_put(keyring_ref);
    return key_ref;
  }
  const ret = test_bit(KEY_FLAG_KEEP, keyring_ref.key.flags) && test_bit(KEY_FLAG_KEEP, key_ref.key.flags)
    ? -EPERM
    : key_unlink(keyring_ref.key, key_ref.key);
  key_ref_put(key_ref);
  key_ref_put(keyring_ref);
  return ret;
}

/** The text KEYCTL_DESCRIBE returns: "type;uid;gid;perm;description" (perm as %08x). */
export function key_describe_string(k: key): string {
  return `${k.type.name};${munged(k.uid)};${munged(k.gid)};` +
    `${(k.perm >>> 0).toString(16).padStart(8, '0')};${k.description}`;
}

/**
 * KEYCTL_DESCRIBE (needs VIEW). Returns the length including the NUL; the NUL-terminated
 * text is copied only if `buffer` holds all of it.
 */
export function keyctl_describe_key(cred: key_cred, id: number, buffer: Uint8Array | null): number {
  const key_ref = lookup_user_key(cred, id, KEY_LOOKUP_PARTIAL, KEY_NEED_VIEW);
  if (IS_ERR(key_ref)) return key_ref;
  const info = new TextEncoder().encode(key_describe_string(key_ref.key) + '\0');
  key_ref_put(key_ref);
  if (buffer && buffer.length >= info.length) buffer.set(info);
  return info.length;
}

/**
 * KEYCTL_SEARCH: find a key of this type and description under the keyring (needs
 * SEARCH), and link it into destringid if non-zero (WRITE on it, LINK on the key).
 * The key's serial, or -ENOKEY, -EKEYREVOKED, -EKEYEXPIRED, -EACCES, ...
 */
export function keyctl_keyring_search(cred: key_cred, ringid: number, type: string,
  description: string, destringid: number): number {
  let ret = key_check_type_name(type);
  if (ret === 0) ret = key_check_description(description);
  if (ret < 0) return ret;
  const keyring_ref = lookup_user_key(cred, ringid, 0, KEY_NEED_SEARCH);
  if (IS_ERR(keyring_ref)) return keyring_ref;
  let dest_ref = null;
  if (destringid) {
    const d = lookup_user_key(cred, destringid, KEY_LOOKUP_CREATE, KEY_NEED_WRITE);
    if (IS_ERR(d)) {
      key_ref_put(keyring_ref);
      return d;
    }
    dest_ref = d;
  }
  const put_all = (r: number): number => {
    if (dest_ref) key_ref_put(dest_ref);
    key_ref_put(keyring_ref);
    return r;
  };

  const ktype = key_type_lookup(type);
  if (IS_ERR(ktype)) return put_all(ktype);
  const key_ref = keyring_search(keyring_ref, ktype, description, true, cred);
  if (IS_ERR(key_ref)) return put_all(key_ref === -EAGAIN ? -ENOKEY : key_ref);

  if (dest_ref) {
    ret = key_task_permission(key_ref, cred, KEY_NEED_LINK);
    if (ret === 0) ret = key_link(dest_ref.key, key_ref.key);
  }
  const serial = key_ref.key.serial;
  key_ref_put(key_ref);
  return put_all(ret < 0 ? ret : serial);
}

/**
 * KEYCTL_READ: copy the payload (or a keyring's serials). Readable with READ, or without
 * it when possessed; -EOPNOTSUPP if the type has no read (mktme). Returns the full
 * length; copies only if `buffer` holds all of it. Lookup failures read as -ENOKEY.
 */
export function keyctl_read_key(cred: key_cred, id: number, buffer: Uint8Array | null): number {
  const key_ref = lookup_user_key(cred, id, 0, KEY_DEFER_PERM_CHECK);
  if (IS_ERR(key_ref)) return -ENOKEY;
  const k = key_ref.key;
  const done = (r: number): number => {
    key_ref_put(key_ref);
    return r;
  };

  if (key_read_state(k) < 0) return done(key_read_state(k)); // negatively instantiated
  const perm = key_task_permission(key_ref, cred, KEY_NEED_READ);
  if (perm < 0 && !key_ref.possessed) return done(-EACCES);
  if (!k.type.read) return done(-EOPNOTSUPP);
  const valid = key_validate(k);
  if (valid < 0) return done(valid);

  const len = k.type.read(k, null);
  if (buffer && buffer.length > 0 && len <= buffer.length) {
    const tmp = new Uint8Array(len);
    k.type.read(k, tmp);
    buffer.set(tmp);
    tmp.fill(0);
  }
  return done(len);
}

/** KEYCTL_SETPERM: needs SETATTR, and the caller must own the key (or be admin). */
export function keyctl_setperm_key(cred: key_cred, id: number, perm: number): number {
  if (perm < 0 || (perm & ~(KEY_POS_ALL | KEY_USR_ALL | KEY_GRP_ALL | KEY_OTH_ALL)) !== 0) return -EINVAL;
  const key_ref = lookup_user_key(cred, id, KEY_LOOKUP_CREATE | KEY_LOOKUP_PARTIAL, KEY_NEED_SETATTR);
  if (IS_ERR(key_ref)) return key_ref;
  const k = key_ref.key;
  let ret = -EACCES;
  if (test_bit(KEY_FLAG_KEEP, k.flags)) {
    ret = -EPERM;
  } else if (k.uid === cred.uid || capable(cred, CAP_SYS_ADMIN)) {
    k.perm = perm;
    ret = 0;
  }
  key_ref_put(key_ref);
  return ret;
}

/**
 * KEYCTL_CHOWN: -1 leaves an id unchanged. Giving the key away, or a group the caller is
 * not in, needs CAP_SYS_ADMIN; the quota moves to the new owner (-EDQUOT if full).
 */
export function keyctl_chown_key(cred: key_cred, id: number, user: number, group: number): number {
  if (user === 0xffffffff) user = -1; // (uid_t)-1
  if (group === 0xffffffff) group = -1;
  if (!Number.isInteger(user) || !Number.isInteger(group) || user < -1 || group < -1 ||
      user > 0xfffffffe || group > 0xfffffffe) return -EINVAL;
  if (user === -1 && group === -1) return 0;
  const key_ref = lookup_user_key(cred, id, KEY_LOOKUP_CREATE | KEY_LOOKUP_PARTIAL, KEY_NEED_SETATTR);
  if (IS_ERR(key_ref)) return key_ref;
  const k = key_ref.key;
  const done = (r: number): number => {
    key_ref_put(key_ref);
    return r;
  };

  const privileged = (user !== -1 && k.uid !== user) ||
    (group !== -1 && group !== k.gid && !in_group_p(cred, group));
  if (privileged && !capable(cred, CAP_SYS_ADMIN)) return done(-EACCES);

  if (user !== -1 && user !== k.uid) {
    const newowner = key_user_lookup(user);
    if (test_bit(KEY_FLAG_IN_QUOTA, k.flags)) {
      const { maxkeys, maxbytes } = key_quota_limits(user);
      if (newowner.qnkeys + 1 > maxkeys || newowner.qnbytes + k.quotalen > maxbytes) {
        key_user_put(newowner);
        return done(-EDQUOT);
      }
      newowner.qnkeys++;
      newowner.qnbytes += k.quotalen;
      k.user.qnkeys--;
      k.user.qnbytes -= k.quotalen;
    }
    k.user.nkeys--;
    newowner.nkeys++;
    if (k.state !== KEY_IS_UNINSTANTIATED) {
      k.user.nikeys--;
      newowner.nikeys++;
    }
    const old = k.user;
    k.user = newowner;
    k.uid = user;
    key_user_put(old);
  }
  if (group !== -1) k.gid = group;
  return done(0);
}

/** KEYCTL_SET_TIMEOUT: expire `timeout` seconds from now; 0 = never (needs SETATTR). */
export function keyctl_set_timeout(cred: key_cred, id: number, timeout: number): number {
  if (!Number.isInteger(timeout) || timeout < 0) return -EINVAL;
  const key_ref = lookup_user_key(cred, id, KEY_LOOKUP_CREATE | KEY_LOOKUP_PARTIAL, KEY_NEED_SETATTR);
  if (IS_ERR(key_ref)) return key_ref;
  let ret = 0;
  if (test_bit(KEY_FLAG_KEEP, key_ref.key.flags)) ret = -EPERM;
  else key_set_timeout(key_ref.key, timeout);
  key_ref_put(key_ref);
  return ret;
}

/**
 * KEYCTL_GET_SECURITY: the key's LSM label (needs VIEW). No LSM labels keys here, so it
 * is the empty string, as Linux returns when security_key_getsecurity() gives nothing.
 * Returns the length with the NUL (1).
 */
export function keyctl_get_security(cred: key_cred, id: number, buffer: Uint8Array | null): number {
  const key_ref = lookup_user_key(cred, id, KEY_LOOKUP_PARTIAL, KEY_NEED_VIEW);
  if (IS_ERR(key_ref)) return key_ref;
  key_ref_put(key_ref);
  if (buffer && buffer.length > 0) buffer[0] = 0;
  return 1;
}

/**
 * KEYCTL_CAPABILITIES (keyctl_capabilities): what this key service supports, as
 * Linux's keyrings_capabilities[]: capabilities, persistent keyrings and invalidate.
 * No Diffie-Hellman, public-key, big_key, restrict_keyring, move, namespaces or
 * notifications here. Copies up to buffer.length bytes; returns the full size (2).
 */
export function keyctl_capabilities(buffer: Uint8Array | null): number {
  const caps = [KEYCTL_CAPS0_CAPABILITIES | KEYCTL_CAPS0_PERSISTENT_KEYRINGS | KEYCTL_CAPS0_INVALIDATE, 0];
  if (buffer) for (let i = 0; i < Math.min(buffer.length, caps.length); i++) buffer[i] = caps[i];
  return caps.length;
}
