/**
 * Task credentials (Linux kernel/cred.c) and this tree's one door into the key service
 * for process and memory code: the uid/gid and keyrings a task runs with, how they are
 * made for init, copied on fork and changed by su, and the MKTME lookups that
 * encrypt_mprotect and the VMA reference counting need.
 *
 * The credential itself is the key service's key_cred (uid == euid == fsuid here) with
 * its permitted and effective capability sets: init's are full, fork copies them, su
 * to a non-zero uid clears them. The checks are kernel/capability.ts's capable().
 * Everything else in kernel/ and mm/ goes through this file.
 */
import {
  KEY_NEED_VIEW, key_cred_alloc, key_cred_fork, key_cred_release, key_cred_setuid, key_ref_put,
  keyctl_join_session_keyring, lookup_user_key, mktme_keyid_from_key, mktme_keyid_get, mktme_keyid_put,
  type key_cred,
} from './keys/index.js';
import { EINVAL } from './errno.js';
import { IS_ERR } from './err.js';

export type cred = key_cred;

/** The overflow uid nobody may become (uid_t -1). */
export const INVALID_UID = 0xffffffff;

/** init's credentials: root, no keyrings yet (Linux: init_cred). */
export function prepare_init_cred(): cred {
  return key_cred_alloc(0, 0);
}

/** copy_creds on fork: same uid/gid, the session keyring shared. A cred or -errno. */
export function copy_creds(parent: cred): cred | number {
  return key_cred_fork(parent, 0);
}

/** Task reaped: drop the keyrings the credentials pin (put_cred). */
export function put_cred(c: cred): void {
  key_cred_release(c);
}

/**
 * What `su UID` does to the new process's credentials: setuid/setgid to UID (user
 * private group), then a fresh anonymous session keyring, as a login through
 * pam_keyinit gets. 0 or -errno.
 */
export function cred_su(c: cred, uid: number): number {
  const ret = key_cred_setuid(c, uid, uid);
  if (ret < 0) return ret;
  const serial = keyctl_join_session_keyring(c, null);
  return serial < 0 ? serial : 0;
}

/**
 * The KeyID of the MKTME key `serial` for encrypt_mprotect ([PATCHv2 44/59]): the key
 * is looked up with view permission (-ENOKEY unknown, -EKEYREVOKED revoked,
 * -EKEYEXPIRED expired, -EACCES not viewable) and must be an mktme key (-EINVAL).
 * On success `release` must be called once the KeyID is in place: the key reference
 * "prevents the destruction of the key while the memory encryption is being set up".
 */
export function encrypt_key_lookup(c: cred, serial: number): { keyid: number; release(): void } | number {
  const key_ref = lookup_user_key(c, serial, 0, KEY_NEED_VIEW);
  if (IS_ERR(key_ref)) return key_ref;
  const keyid = mktme_keyid_from_key(key_ref.key);
  if (!keyid) {
    key_ref_put(key_ref);
    return -EINVAL;
  }
  return { keyid, release: () => key_ref_put(key_ref) };
}

/** Take `n` references on a KeyID (per encrypted VMA; percpu_ref_get_many). */
export function keyid_get(keyid: number, n: number): void {
  mktme_keyid_get(keyid, n);
}

/** Drop `n` references; the last one lets the key service clear and free the KeyID. */
export function keyid_put(keyid: number, n: number): void {
  mktme_keyid_put(keyid, n);
}
