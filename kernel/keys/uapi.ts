/**
 * The key service's ABI numbers, exactly as Linux defines them:
 *  - include/uapi/linux/keyctl.h: special keyring IDs and KEYCTL_* commands;
 *  - include/linux/key.h: the permission mask layout;
 *  - include/uapi/asm-generic/errno*.h: the errno values the service returns
 *    (x86 numbering; kernel code returns them negated).
 *
 * Nothing here has behaviour; it is the contract shared with the shell's `keyctl`.
 */

/** A key's serial number (key_serial_t): a positive 31-bit integer, or a special ID. */
export type key_serial_t = number;

/* Special keyring IDs (include/uapi/linux/keyctl.h). */
export const KEY_SPEC_THREAD_KEYRING = -1;
export const KEY_SPEC_PROCESS_KEYRING = -2;
export const KEY_SPEC_SESSION_KEYRING = -3;
export const KEY_SPEC_USER_KEYRING = -4;
export const KEY_SPEC_USER_SESSION_KEYRING = -5;
export const KEY_SPEC_GROUP_KEYRING = -6;
export const KEY_SPEC_REQKEY_AUTH_KEY = -7;
export const KEY_SPEC_REQUESTOR_KEYRING = -8;

/* keyctl() commands (include/uapi/linux/keyctl.h). */
export const KEYCTL_GET_KEYRING_ID = 0;
export const KEYCTL_JOIN_SESSION_KEYRING = 1;
export const KEYCTL_UPDATE = 2;
export const KEYCTL_REVOKE = 3;
export const KEYCTL_CHOWN = 4;
export const KEYCTL_SETPERM = 5;
export const KEYCTL_DESCRIBE = 6;
export const KEYCTL_CLEAR = 7;
export const KEYCTL_LINK = 8;
export const KEYCTL_UNLINK = 9;
export const KEYCTL_SEARCH = 10;
export const KEYCTL_READ = 11;
export const KEYCTL_INSTANTIATE = 12;
export const KEYCTL_NEGATE = 13;
export const KEYCTL_SET_REQKEY_KEYRING = 14;
export const KEYCTL_SET_TIMEOUT = 15;
export const KEYCTL_ASSUME_AUTHORITY = 16;
export const KEYCTL_GET_SECURITY = 17;
export const KEYCTL_SESSION_TO_PARENT = 18;
export const KEYCTL_REJECT = 19;
export const KEYCTL_INSTANTIATE_IOV = 20;
export const KEYCTL_INVALIDATE = 21;
export const KEYCTL_GET_PERSISTENT = 22;
export const KEYCTL_DH_COMPUTE = 23;
export const KEYCTL_PKEY_QUERY = 24;
export const KEYCTL_PKEY_ENCRYPT = 25;
export const KEYCTL_PKEY_DECRYPT = 26;
export const KEYCTL_PKEY_SIGN = 27;
export const KEYCTL_PKEY_VERIFY = 28;
export const KEYCTL_RESTRICT_KEYRING = 29;
export const KEYCTL_MOVE = 30;
export const KEYCTL_CAPABILITIES = 31;
export const KEYCTL_WATCH_KEY = 32;

/* KEYCTL_CAPABILITIES bits (include/uapi/linux/keyctl.h). */
export const KEYCTL_CAPS0_CAPABILITIES = 0x01;
export const KEYCTL_CAPS0_PERSISTENT_KEYRINGS = 0x02;
export const KEYCTL_CAPS0_DIFFIE_HELLMAN = 0x04;
export const KEYCTL_CAPS0_PUBLIC_KEY = 0x08;
export const KEYCTL_CAPS0_BIG_KEY = 0x10;
export const KEYCTL_CAPS0_INVALIDATE = 0x20;
export const KEYCTL_CAPS0_RESTRICT_KEYRING = 0x40;
export const KEYCTL_CAPS0_MOVE = 0x80;
export const KEYCTL_CAPS1_NS_KEYRING_NAME = 0x01;
export const KEYCTL_CAPS1_NS_KEY_TAG = 0x02;
export const KEYCTL_CAPS1_NOTIFICATIONS = 0x04;

/*
 * Permission mask (include/linux/key.h). Four bytes, one per class:
 *   possessor 0x3f000000 | owner (user) 0x003f0000 | group 0x00003f00 | other 0x0000003f
 * Each byte: VIEW 0x01, READ 0x02, WRITE 0x04, SEARCH 0x08, LINK 0x10, SETATTR 0x20.
 */
export const KEY_POS_VIEW = 0x01000000;
export const KEY_POS_READ = 0x02000000;
export const KEY_POS_WRITE = 0x04000000;
export const KEY_POS_SEARCH = 0x08000000;
export const KEY_POS_LINK = 0x10000000;
export const KEY_POS_SETATTR = 0x20000000;
export const KEY_POS_ALL = 0x3f000000;

export const KEY_USR_VIEW = 0x00010000;
export const KEY_USR_READ = 0x00020000;
export const KEY_USR_WRITE = 0x00040000;
export const KEY_USR_SEARCH = 0x00080000;
export const KEY_USR_LINK = 0x00100000;
export const KEY_USR_SETATTR = 0x00200000;
export const KEY_USR_ALL = 0x003f0000;

export const KEY_GRP_VIEW = 0x00000100;
export const KEY_GRP_READ = 0x00000200;
export const KEY_GRP_WRITE = 0x00000400;
export const KEY_GRP_SEARCH = 0x00000800;
export const KEY_GRP_LINK = 0x00001000;
export const KEY_GRP_SETATTR = 0x00002000;
export const KEY_GRP_ALL = 0x00003f00;

export const KEY_OTH_VIEW = 0x00000001;
export const KEY_OTH_READ = 0x00000002;
export const KEY_OTH_WRITE = 0x00000004;
export const KEY_OTH_SEARCH = 0x00000008;
export const KEY_OTH_LINK = 0x00000010;
export const KEY_OTH_SETATTR = 0x00000020;
export const KEY_OTH_ALL = 0x0000003f;

/** "Let the kernel choose" for add_key's permissions (key_create_or_update). */
export const KEY_PERM_UNDEF = 0xffffffff;

/* errno values: the kernel's one table (asm-generic/errno-base.h, errno.h). EAGAIN is
 * used internally for "searched, nothing found" and never leaves the key service. */
export {
  EACCES, EAGAIN, EBUSY, EDEADLK, EDQUOT, EEXIST, EFAULT, EINVAL, EIO, EKEYEXPIRED, EKEYREJECTED,
  EKEYREVOKED, ELOOP, ENODEV, ENOENT, ENOKEY, ENOMEM, ENOTDIR, EOPNOTSUPP, EPERM,
} from '../errno.js';
