/**
 * Key access control (Linux security/keys/permission.c): which of a key's four
 * permission bytes applies to a caller, plus the possessor byte when the caller reached
 * the key through its own keyrings. Root gets no bypass here, as in Linux; only a few
 * keyctl commands consult capabilities (capable() below).
 */
import { cap_raised } from '../../include/linux/capability.js';
import { EACCES, KEY_GRP_ALL } from './uapi.js';
import type { key_cred, key_ref_t } from './types.js';

/* What an operation needs (the 4.x bitmask form of include/linux/key.h). */
export const KEY_NEED_VIEW = 0x01;    // see attributes
export const KEY_NEED_READ = 0x02;    // read the payload / list a keyring
export const KEY_NEED_WRITE = 0x04;   // update / add to a keyring
export const KEY_NEED_SEARCH = 0x08;  // find (key) or search (keyring)
export const KEY_NEED_LINK = 0x10;    // link into a keyring
export const KEY_NEED_SETATTR = 0x20; // change attributes
export const KEY_NEED_ALL = 0x3f;
/** No permission or state check in lookup_user_key (unlink; read defers its own check). */
export const KEY_NEED_UNLINK = 0;
export const KEY_DEFER_PERM_CHECK = 0;

/* Capabilities the key service asks about (include/uapi/linux/capability.h). */
export { CAP_SYS_ADMIN, CAP_SYS_RESOURCE } from '../../include/linux/capability.js';

/** Does `cred` hold `cap` in its effective set (security_capable)? */
export function capable(cred: key_cred, cap: number): boolean {
  return cap_raised(cred.cap_effective, cap);
}

/** in_group_p(): the caller's gid or one of its supplementary groups. */
export function in_group_p(cred: key_cred, gid: number): boolean {
  return cred.gid === gid || cred.groups.includes(gid);
}

/**
 * Check that the caller may do `need_perm` to the key (key_task_permission).
 * Owner byte if the uid matches, else group byte if a group matches (and the key grants
 * the group anything), else other byte; the possessor byte is added for possessed keys.
 * Returns 0 or -EACCES.
 */
export function key_task_permission(key_ref: key_ref_t, cred: key_cred, need_perm: number): number {
  const key = key_ref.key;
  let kperm: number;

  if (key.uid === cred.uid) {
    kperm = key.perm >>> 16;
  } else if (key.gid !== -1 && (key.perm & KEY_GRP_ALL) && in_group_p(cred, key.gid)) {
    kperm = key.perm >>> 8;
  } else {
    kperm = key.perm;
  }

  if (key_ref.possessed) kperm |= key.perm >>> 24;

  kperm = kperm & need_perm & KEY_NEED_ALL;
  return kperm !== need_perm ? -EACCES : 0;
}
