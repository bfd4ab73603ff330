/**
 * The key service's data structures: struct key, struct key_type, struct key_user,
 * struct key_preparsed_payload and the keyring fields of struct cred
 * (include/linux/key.h, include/linux/key-type.h, include/linux/cred.h).
 *
 * Only shapes live here; behaviour is in key.ts, keyring.ts and process_keys.ts.
 */
import type { key_serial_t } from './uapi.js';

/* key->flags bit numbers (include/linux/key.h). */
export const KEY_FLAG_DEAD = 0;           // the key's type was unregistered
export const KEY_FLAG_REVOKED = 1;        // revoked: no further access
export const KEY_FLAG_IN_QUOTA = 2;       // counted against the owner's quota
export const KEY_FLAG_USER_CONSTRUCT = 3; // under construction by userspace
export const KEY_FLAG_ROOT_CAN_CLEAR = 4;
export const KEY_FLAG_INVALIDATED = 5;    // invalidated: garbage at the next key_gc()
export const KEY_FLAG_BUILTIN = 6;
export const KEY_FLAG_ROOT_CAN_INVAL = 7;
export const KEY_FLAG_KEEP = 8;           // may not be revoked, invalidated or unlinked
export const KEY_FLAG_UID_KEYRING = 9;    // a _uid.N or _uid_ses.N keyring

/* key->state (Linux 4.15+): uninstantiated, positive, or a negative error. */
export const KEY_IS_UNINSTANTIATED = 0;
export const KEY_IS_POSITIVE = 1;

/** key->expiry for a key that never expires (Linux: TIME64_MAX). */
export const TIME64_MAX = Number.MAX_SAFE_INTEGER;

/** INVALID_UID / INVALID_GID, and what from_k[ug]id_munged() prints for them. */
export const INVALID_UID = -1;
export const INVALID_GID = -1;
export const OVERFLOW_ID = 65534;

/** A task's credentials as far as keys are concerned (struct cred's key fields). */
export interface key_cred {
  /** uid == euid == fsuid here. */
  uid: number;
  gid: number;
  /** Permitted and effective capabilities (include/linux/capability.ts): root's full set. */
  cap_permitted: bigint;
  cap_effective: bigint;
  /** Supplementary groups (group_info). */
  groups: number[];
  /** cred->thread_keyring ("_tid"), created on demand by @t with create. */
  thread_keyring: key | null;
  /** cred->process_keyring ("_pid"), created on demand by @p with create. */
  process_keyring: key | null;
  /** cred->session_keyring; null means "use the user-session keyring". */
  session_keyring: key | null;
}

/** Per-uid key accounting (struct key_user): what /proc/key-users shows. */
export interface key_user {
  uid: number;
  /** References: one per key owned, plus transient lookups. */
  usage: number;
  /** Keys owned, and how many of them are instantiated. */
  nkeys: number;
  nikeys: number;
  /** Quota in use: keys and bytes. */
  qnkeys: number;
  qnbytes: number;
}

/** What a type's preparse() sees and fills in (struct key_preparsed_payload). */
export interface key_preparsed_payload {
  /** The caller (Linux: current_cred()); types check capabilities with it. */
  cred: key_cred;
  orig_description: string | null;
  /** A description proposed by the type when the caller gave none. */
  description: string | null;
  data: Uint8Array | null;
  datalen: number;
  /** Bytes to charge to the quota (types set it; defaults to def_datalen). */
  quotalen: number;
  expiry: number;
  /** The preparsed payload, handed to instantiate() or update(). */
  payload: unknown;
}

/** A key type's operations (struct key_type). */
export interface key_type {
  name: string;
  /** Default payload size charged before instantiation. */
  def_datalen: number;
  /** Check a description before a key is allocated (key_alloc); 0 or -errno. */
  vet_description?(description: string): number;
  /** Check and parse a payload before a key exists; 0 or -errno. */
  preparse?(prep: key_preparsed_payload): number;
  /** Release (and wipe) what preparse() produced. */
  free_preparse?(prep: key_preparsed_payload): void;
  /** Attach the payload to a new key; 0 or -errno. */
  instantiate(key: key, prep: key_preparsed_payload): number;
  /** Replace the payload of an existing key (add_key on a match, KEYCTL_UPDATE). */
  update?(key: key, prep: key_preparsed_payload): number;
  /** The tail of a /proc/keys line. */
  describe?(key: key): string;
  /** Copy up to buffer.length bytes of payload; return the full payload length. */
  read?(key: key, buffer: Uint8Array | null): number;
  /** The key was revoked: drop what the payload pins. */
  revoke?(key: key): void;
  /** The key is being garbage collected (only if it was instantiated). */
  destroy?(key: key): void;
}

/** struct key. */
export interface key {
  serial: key_serial_t;
  type: key_type;
  description: string;
  uid: number;
  gid: number;
  perm: number;
  /** KEY_FLAG_* bits. */
  flags: number;
  /** KEY_IS_UNINSTANTIATED, KEY_IS_POSITIVE, or -errno for a negative key. */
  state: number;
  /** Seconds on the virtual clock; TIME64_MAX for none. */
  expiry: number;
  /** When it was revoked (0 if never); it is reaped gc_delay later. */
  revoked_at: number;
  last_used_at: number;
  /** Reference count: keyring links, creds, registers and transient holders. */
  usage: number;
  /** Payload size (quota-charged), and the total quota charge. */
  datalen: number;
  quotalen: number;
  user: key_user;
  /** Type-specific payload. */
  payload: unknown;
  /** Keyrings only: the linked keys, in link order (Linux: an assoc_array). */
  keys: key[] | null;
}

/** A key pointer plus "found through the caller's keyrings" (key_ref_t). */
export interface key_ref_t {
  key: key;
  possessed: boolean;
}
