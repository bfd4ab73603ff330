/**
 * POSIX capabilities as numbers and sets (Linux include/uapi/linux/capability.h for
 * the numbers, include/linux/capability.h for kernel_cap_t and its helpers).
 *
 * Since Linux 6.3 kernel_cap_t is one u64 (`struct { u64 val; }`); here it is a bigint
 * with bit CAP_X set when the capability is held. This file imports nothing, so the key
 * service, the credential code and the capability checks (kernel/capability.ts) can
 * all use it without an import cycle.
 */

export const CAP_CHOWN = 0;
export const CAP_DAC_OVERRIDE = 1;
export const CAP_DAC_READ_SEARCH = 2;
export const CAP_FOWNER = 3;
export const CAP_FSETID = 4;
export const CAP_KILL = 5;
export const CAP_SETGID = 6;
export const CAP_SETUID = 7;
export const CAP_SETPCAP = 8;
export const CAP_LINUX_IMMUTABLE = 9;
export const CAP_NET_BIND_SERVICE = 10;
export const CAP_NET_BROADCAST = 11;
export const CAP_NET_ADMIN = 12;
export const CAP_NET_RAW = 13;
export const CAP_IPC_LOCK = 14;
export const CAP_IPC_OWNER = 15;
export const CAP_SYS_MODULE = 16;
export const CAP_SYS_RAWIO = 17;
export const CAP_SYS_CHROOT = 18;
export const CAP_SYS_PTRACE = 19;
export const CAP_SYS_PACCT = 20;
export const CAP_SYS_ADMIN = 21;
export const CAP_SYS_BOOT = 22;
export const CAP_SYS_NICE = 23;
export const CAP_SYS_RESOURCE = 24;
export const CAP_SYS_TIME = 25;
export const CAP_SYS_TTY_CONFIG = 26;
export const CAP_MKNOD = 27;
export const CAP_LEASE = 28;
export const CAP_AUDIT_WRITE = 29;
export const CAP_AUDIT_CONTROL = 30;
export const CAP_SETFCAP = 31;
export const CAP_MAC_OVERRIDE = 32;
export const CAP_MAC_ADMIN = 33;
export const CAP_SYSLOG = 34;
export const CAP_WAKE_ALARM = 35;
export const CAP_BLOCK_SUSPEND = 36;
export const CAP_AUDIT_READ = 37;
export const CAP_PERFMON = 38;
export const CAP_BPF = 39;
export const CAP_CHECKPOINT_RESTORE = 40;
export const CAP_LAST_CAP = CAP_CHECKPOINT_RESTORE;

/** kernel_cap_t: bit n set = capability n held. */
export type kernel_cap_t = bigint;

/** CAP_EMPTY_SET and CAP_FULL_SET (every capability up to CAP_LAST_CAP). */
export const CAP_EMPTY_SET: kernel_cap_t = 0n;
export const CAP_FULL_SET: kernel_cap_t = (1n << BigInt(CAP_LAST_CAP + 1)) - 1n;

/** cap_valid(): a capability number this kernel knows. */
export function cap_valid(cap: number): boolean {
  return Number.isInteger(cap) && cap >= 0 && cap <= CAP_LAST_CAP;
}

/** cap_raised(set, cap): is `cap` in `set`? */
export function cap_raised(set: kernel_cap_t, cap: number): boolean {
  return cap_valid(cap) && ((set >> BigInt(cap)) & 1n) === 1n;
}

/** The capabilities credentials start with for `uid`: root all, others none. */
export function cap_initial_set(uid: number): kernel_cap_t {
  return uid === 0 ? CAP_FULL_SET : CAP_EMPTY_SET;
}
