/**
 * A task's keyrings (Linux security/keys/process_keys.c): the thread (@t), process (@p)
 * and session (@s) keyrings hanging off the credentials, the per-uid user (@u) and
 * user-session (@us) keyrings, possession searches, and lookup_user_key(), which turns
 * a serial or special ID into a key the caller may use.
 *
 * Credential lifecycle for the process code: key_cred_alloc() for the first task,
 * key_cred_fork() on fork/clone, key_cred_exec() on execve, key_cred_setuid() for su,
 * key_cred_release() on exit. As in Linux, a child shares its parent's session keyring,
 * gets no process keyring, and gets a thread keyring only for CLONE_THREAD when the
 * parent had one; @t and @p are created when looked up with KEY_LOOKUP_CREATE.
 */
import {
  EAGAIN, EINVAL, EIO, ENOKEY,
  KEY_POS_ALL, KEY_POS_SEARCH, KEY_POS_SETATTR, KEY_POS_WRITE, KEY_USR_ALL, KEY_USR_LINK,
  KEY_USR_READ, KEY_USR_VIEW,
  KEY_SPEC_GROUP_KEYRING, KEY_SPEC_PROCESS_KEYRING, KEY_SPEC_REQKEY_AUTH_KEY,
  KEY_SPEC_REQUESTOR_KEYRING, KEY_SPEC_SESSION_KEYRING, KEY_SPEC_THREAD_KEYRING,
  KEY_SPEC_USER_KEYRING, KEY_SPEC_USER_SESSION_KEYRING,
} from './uapi.js';
import { INVALID_GID, KEY_FLAG_UID_KEYRING, KEY_IS_UNINSTANTIATED, type key, type key_cred, type key_ref_t } from './types.js';
import {
  KEY_ALLOC_IN_QUOTA, KEY_ALLOC_QUOTA_OVERRUN, KEY_ALLOC_UID_KEYRING, key_get, key_lookup,
  key_now, key_put, key_ref_put, key_state, key_validate, make_key_ref, test_bit,
} from './key.js';
import {
  KEYRING_SEARCH_DO_STATE_CHECK, KEYRING_SEARCH_NO_STATE_CHECK, KEYRING_SEARCH_RECURSE,
  find_keyring_by_name, key_link, key_type_keyring, keyring_alloc, keyring_search,
  keyring_search_context_init, keyring_search_rcu, type keyring_search_context,
} from './keyring.js';
import { key_task_permission } from './permission.js';
import { IS_ERR } from '../err.js';
import { CAP_EMPTY_SET, cap_initial_set } from '../../include/linux/capability.js';

/* lookup_user_key() flags (security/keys/internal.h). */
export const KEY_LOOKUP_CREATE = 0x01;  // create special keyrings that don't exist yet
export const KEY_LOOKUP_PARTIAL = 0x02; // permit a negative or unfinished key (still validated)

/** clone() flag that keeps the thread group's process keyring. */
export const CLONE_THREAD = 0x00010000;

// --- credential lifecycle ---------------------------------------------------------------

/** Credentials for a first task: no keyrings yet (@s falls back to @us on first use). */
export function key_cred_alloc(uid: number, gid: number, groups: number[] = []): key_cred {
  const caps = cap_initial_set(uid);
  return {
    uid, gid, groups: [...groups], cap_permitted: caps, cap_effective: caps,
    thread_keyring: null, process_keyring: null, session_keyring: null,
  };
}

/** The child's credentials at fork/clone (copy_creds), holding its own references; or -errno. */
export function key_cred_fork(parent: key_cred, clone_flags: number): key_cred | number {
  const cred = key_cred_alloc(parent.uid, parent.gid, parent.groups);
  cred.cap_permitted = parent.cap_permitted;
  cred.cap_effective = parent.cap_effective;
  if (parent.session_keyring) cred.session_keyring = key_get(parent.session_keyring);
  if (clone_flags & CLONE_THREAD) {
    if (parent.process_keyring) cred.process_keyring = key_get(parent.process_keyring);
    /* new threads get their own thread keyrings if their parent already had one */
    if (parent.thread_keyring) {
      const ret = install_thread_keyring_to_cred(cred);
      if (ret < 0) {
        key_cred_release(cred);
        return ret;
      }
    }
  }
  return cred;
}

/** execve: no thread keyring, a fresh (absent) process keyring, same session (prepare_exec_creds). */
export function key_cred_exec(cred: key_cred): void {
  key_put(cred.thread_keyring);
  cred.thread_keyring = null;
  key_put(cred.process_keyring);
  cred.process_keyring = null;
}

/**
 * su: become uid/gid with the new user's user-session keyring as the session keyring,
 * as a login through pam_keyinit would. 0, or -errno if the user keyrings can't be made.
 */
export function key_cred_setuid(cred: key_cred, uid: number, gid: number, groups: number[] = []): number {
  key_cred_exec(cred);
  /* cap_emulate_setxuid(): leaving uid 0 for another uid clears permitted and effective */
  if (cred.uid === 0 && uid !== 0) {
    cred.cap_permitted = CAP_EMPTY_SET;
    cred.cap_effective = CAP_EMPTY_SET;
  }
  cred.uid = uid;
  cred.gid = gid;
  cred.groups = [...groups];
  const r = look_up_user_keyrings(cred);
  if (IS_ERR(r)) return r;
  const ret = install_session_keyring_to_cred(cred, r.user_session_keyring);
  key_put(r.user_keyring);
  key_put(r.user_session_keyring);
  return ret;
}

/** Task exit: drop the keyrings the credentials pin. */
export function key_cred_release(cred: key_cred): void {
  key_cred_exec(cred);
  key_put(cred.session_keyring);
  cred.session_keyring = null;
}

// --- user keyrings ------------------------------------------------------------------------

/** The register keyring that pins every uid's keyrings (get_user_register). */
function get_user_register(cred: key_cred): key | number {
  const s = key_state();
  if (s.user_keyring_register) return s.user_keyring_register;
  const reg = keyring_alloc('.user_reg', 0, INVALID_GID, cred,
    KEY_POS_WRITE | KEY_POS_SEARCH | KEY_USR_VIEW | KEY_USR_READ, KEY_ALLOC_IN_QUOTA, null);
  if (IS_ERR(reg)) return reg;
  s.user_keyring_register = reg; // the register's reference
  return reg;
}

/**
 * The caller's user keyring _uid.N and user-session keyring _uid_ses.N, created on
 * first use (look_up_user_keyrings). Both come with a reference, or -errno.
 */
export function look_up_user_keyrings(cred: key_cred):
  { user_keyring: key; user_session_keyring: key } | number {
  const user_keyring_perm = (KEY_POS_ALL & ~KEY_POS_SETATTR) | KEY_USR_ALL;
  const reg = get_user_register(cred);
  if (IS_ERR(reg)) return reg;
  const reg_ref = make_key_ref(reg, true);

  let uid_keyring: key;
  const name = `_uid.${cred.uid}`;
  const u = keyring_search(reg_ref, key_type_keyring, name, false, cred);
  if (u === -EAGAIN) {
    const k = keyring_alloc(name, cred.uid, INVALID_GID, cred, user_keyring_perm,
      KEY_ALLOC_UID_KEYRING | KEY_ALLOC_IN_QUOTA, reg);
    if (IS_ERR(k)) return k;
    uid_keyring = k;
  } else if (IS_ERR(u)) {
    return u;
  } else {
    uid_keyring = u.key;
  }

  let session_keyring: key;
  const sname = `_uid_ses.${cred.uid}`;
  const us = keyring_search(reg_ref, key_type_keyring, sname, false, cred);
  if (us === -EAGAIN) {
    const k = keyring_alloc(sname, cred.uid, INVALID_GID, cred, user_keyring_perm,
      KEY_ALLOC_UID_KEYRING | KEY_ALLOC_IN_QUOTA, null);
    if (IS_ERR(k)) {
      key_put(uid_keyring);
      return k;
    }
    /* the user session keyring links the user keyring, then joins the register */
    let ret = key_link(k, uid_keyring);
    if (ret === 0) ret = key_link(reg, k);
    if (ret < 0) {
      key_put(k);
      key_put(uid_keyring);
      return ret;
    }
    session_keyring = k;
  } else if (IS_ERR(us)) {
    key_put(uid_keyring);
    return us;
  } else {
    session_keyring = us.key;
  }
  return { user_keyring: uid_keyring, user_session_keyring: session_keyring };
}

/** The existing user-session keyring, with a reference, or null (get_user_session_keyring_rcu). */
export function get_user_session_keyring(cred: key_cred): key | null {
  const reg = key_state().user_keyring_register;
  if (!reg) return null;
  const r = keyring_search_rcu(make_key_ref(reg, true), keyring_search_context_init(
    cred, key_type_keyring, `_uid_ses.${cred.uid}`, KEYRING_SEARCH_DO_STATE_CHECK));
  return IS_ERR(r) ? null : r.key;
}

// --- installing @t, @p, @s ------------------------------------------------------------------

/** Give the credentials a thread keyring "_tid" if they have none. 0 or -errno. */
export function install_thread_keyring_to_cred(cred: key_cred): number {
  if (cred.thread_keyring) return 0;
  const k = keyring_alloc('_tid', cred.uid, cred.gid, cred, KEY_POS_ALL | KEY_USR_VIEW,
    KEY_ALLOC_QUOTA_OVERRUN, null);
  if (IS_ERR(k)) return k;
  cred.thread_keyring = k;
  return 0;
}

/** Give the credentials a process keyring "_pid" if they have none. 0 or -errno. */
export function install_process_keyring_to_cred(cred: key_cred): number {
  if (cred.process_keyring) return 0;
  const k = keyring_alloc('_pid', cred.uid, cred.gid, cred, KEY_POS_ALL | KEY_USR_VIEW,
    KEY_ALLOC_QUOTA_OVERRUN, null);
  if (IS_ERR(k)) return k;
  cred.process_keyring = k;
  return 0;
}

/** Install `keyring` as the session keyring, or a new anonymous "_ses" if null. 0 or -errno. */
export function install_session_keyring_to_cred(cred: key_cred, keyring: key | null): number {
  if (!keyring) {
    const flags = cred.session_keyring ? KEY_ALLOC_IN_QUOTA : KEY_ALLOC_QUOTA_OVERRUN;
    const k = keyring_alloc('_ses', cred.uid, cred.gid, cred,
      KEY_POS_ALL | KEY_USR_VIEW | KEY_USR_READ, flags, null);
    if (IS_ERR(k)) return k;
    keyring = k;
  } else {
    key_get(keyring);
  }
  const old = cred.session_keyring;
  cred.session_keyring = keyring;
  key_put(old);
  return 0;
}

/**
 * KEYCTL_JOIN_SESSION_KEYRING (join_session_keyring): a new anonymous session for a null
 * name, else join (or create) the named keyring. The session's serial, 0 if already
 * joined, or -errno.
 */
export function join_session_keyring(cred: key_cred, name: string | null): number {
  if (name === null) {
    const ret = install_session_keyring_to_cred(cred, null);
    return ret < 0 ? ret : cred.session_keyring!.serial;
  }
  let keyring = find_keyring_by_name(name, false, cred);
  if (keyring === -ENOKEY) {
    keyring = keyring_alloc(name, cred.uid, cred.gid, cred,
      KEY_POS_ALL | KEY_USR_VIEW | KEY_USR_READ | KEY_USR_LINK, KEY_ALLOC_IN_QUOTA, null);
    if (IS_ERR(keyring)) return keyring;
  } else if (IS_ERR(keyring)) {
    return keyring;
  } else if (keyring === cred.session_keyring) {
    key_put(keyring);
    return 0;
  }
  install_session_keyring_to_cred(cred, keyring);
  const serial = keyring.serial;
  key_put(keyring);
  return serial;
}

// --- searching the caller's keyrings -----------------------------------------------------

/**
 * Search thread, process, then session (or user-session) keyrings, each as possessed
 * (search_cred_keyrings_rcu). Error priority: found > -ENOKEY/-EAGAIN > other errors.
 */
export function search_cred_keyrings_rcu(ctx: keyring_search_context): key_ref_t | number {
  const cred = ctx.cred;
  let ret: number | null = null;
  let err = -EAGAIN;
  const search = (keyring: key): key_ref_t | null => {
    const r = keyring_search_rcu(make_key_ref(keyring, true), ctx);
    if (!IS_ERR(r)) return r;
    if (r === -EAGAIN || r === -ENOKEY) ret = r;
    else err = r;
    return null;
  };

  let found: key_ref_t | null = null;
  if (cred.thread_keyring) found = search(cred.thread_keyring);
  if (!found && cred.process_keyring) found = search(cred.process_keyring);
  if (!found) {
    if (cred.session_keyring) {
      found = search(cred.session_keyring);
    } else {
      const user_session = get_user_session_keyring(cred);
      if (user_session) {
        found = search(user_session);
        key_put(user_session);
      }
    }
  }
  return found ?? ret ?? err;
}

/** search_process_keyrings_rcu: no request-key authorisation keys in this kernel. */
export const search_process_keyrings_rcu = search_cred_keyrings_rcu;

/** Is the key reachable, searchably, from the caller's keyrings? A possessed ref or -errno. */
export function lookup_possession(cred: key_cred, k: key): key_ref_t | number {
  return search_process_keyrings_rcu(keyring_search_context_init(
    cred, k.type, k.description, KEYRING_SEARCH_NO_STATE_CHECK | KEYRING_SEARCH_RECURSE,
    (c) => c === k));
}

// --- lookup_user_key ---------------------------------------------------------------------------

/** The special keyrings @t .. @us, created as lookup_user_key() needs. */
function lookup_special(cred: key_cred, id: number, lflags: number): key_ref_t | number {
  let ret: number;
  switch (id) {
    case KEY_SPEC_THREAD_KEYRING:
      if (!cred.thread_keyring) {
        if (!(lflags & KEY_LOOKUP_CREATE)) return -ENOKEY;
        if ((ret = install_thread_keyring_to_cred(cred)) < 0) return ret;
      }
      return make_key_ref(key_get(cred.thread_keyring!), true);

    case KEY_SPEC_PROCESS_KEYRING:
      if (!cred.process_keyring) {
        if (!(lflags & KEY_LOOKUP_CREATE)) return -ENOKEY;
        if ((ret = install_process_keyring_to_cred(cred)) < 0) return ret;
      }
      return make_key_ref(key_get(cred.process_keyring!), true);

    case KEY_SPEC_SESSION_KEYRING:
      if (!cred.session_keyring) {
        /* always install a session keyring upon access if one doesn't exist yet */
        const r = look_up_user_keyrings(cred);
        if (IS_ERR(r)) return r;
        ret = lflags & KEY_LOOKUP_CREATE
          ? join_session_keyring(cred, null)
          : install_session_keyring_to_cred(cred, r.user_session_keyring);
        key_put(r.user_keyring);
        key_put(r.user_session_keyring);
        if (ret < 0) return ret;
      } else if (test_bit(KEY_FLAG_UID_KEYRING, cred.session_keyring.flags) &&
                 (lflags & KEY_LOOKUP_CREATE)) {
        /* the session is a user-session keyring: create gives a private session */
        if ((ret = join_session_keyring(cred, null)) < 0) return ret;
      }
      return make_key_ref(key_get(cred.session_keyring!), true);

    case KEY_SPEC_USER_KEYRING:
    case KEY_SPEC_USER_SESSION_KEYRING: {
      const r = look_up_user_keyrings(cred);
      if (IS_ERR(r)) return r;
      const keep = id === KEY_SPEC_USER_KEYRING ? r.user_keyring : r.user_session_keyring;
      key_put(id === KEY_SPEC_USER_KEYRING ? r.user_session_keyring : r.user_keyring);
      return make_key_ref(keep, true);
    }

    case KEY_SPEC_GROUP_KEYRING: // group keyrings are not yet supported (Linux too)
      return -EINVAL;
    case KEY_SPEC_REQKEY_AUTH_KEY:
    case KEY_SPEC_REQUESTOR_KEYRING: // no request_key authorisation in progress
      return -ENOKEY;
    default:
      return -EINVAL;
  }
}

/**
 * Turn a serial or special ID into a key the caller may use (lookup_user_key).
 * Special IDs are possessed; other keys are possessed if found through the caller's
 * keyrings. Unless KEY_LOOKUP_PARTIAL, the key must be valid (-ENOKEY invalidated,
 * -EKEYREVOKED, -EKEYEXPIRED); need_perm (KEY_NEED_*) must be granted (-EACCES);
 * need_perm 0 skips both checks. Unknown serial: -ENOKEY; 0 or bad special ID: -EINVAL.
 * The key_ref holds a reference: release it with key_ref_put().
 */
export function lookup_user_key(cred: key_cred, id: number, lflags: number, need_perm: number): key_ref_t | number {
  let key_ref: key_ref_t;
  if (id < 0) {
    const r = lookup_special(cred, id, lflags);
    if (IS_ERR(r)) return r;
    key_ref = r;
  } else {
    if (id < 1) return -EINVAL;
    const k = key_lookup(id);
    if (IS_ERR(k)) return k;
    key_ref = make_key_ref(k, false);
    const skey_ref = lookup_possession(cred, k);
    if (!IS_ERR(skey_ref)) {
      key_put(k);
      key_ref = skey_ref;
    }
  }

  const k = key_ref.key;
  if (need_perm !== 0) {
    const ret = !(lflags & KEY_LOOKUP_PARTIAL) && k.state < 0 ? k.state : key_validate(k);
    if (ret < 0) {
      key_ref_put(key_ref);
      return ret;
    }
    if (!(lflags & KEY_LOOKUP_PARTIAL) && k.state === KEY_IS_UNINSTANTIATED) {
      key_ref_put(key_ref);
      return -EIO;
    }
    const perm = key_task_permission(key_ref, cred, need_perm);
    if (perm < 0) {
      key_ref_put(key_ref);
      return perm;
    }
  }
  k.last_used_at = key_now();
  return key_ref;
}
