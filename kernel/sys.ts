/**
 * Small process system calls (Linux kernel/sys.c): getpid, getppid, getuid, setuid,
 * and what `su` does in its new process. The other system calls live where Linux keeps
 * them: fork in kernel/fork.ts, exit and wait4 in kernel/exit.ts, mmap and munmap in
 * mm/mmap.ts, mprotect and encrypt_mprotect in mm/mprotect.ts.
 */
import { current, set_task_comm } from './sched.js';
import { cred_su, INVALID_UID } from './cred.js';
import { CAP_SETUID, capable } from './capability.js';
import { EINVAL, EPERM } from './errno.js';

/** getpid(2). */
export function sys_getpid(): number { return current().pid; }

/** getppid(2): 0 for init. */
export function sys_getppid(): number { return current().parent?.pid ?? 0; }

/** getuid(2) (uid == euid here). */
export function sys_getuid(): number { return current().cred.uid; }

/**
 * setuid(2): root (CAP_SETUID) may become any uid; others may only "become" their own.
 * Keyrings are kept, as in Linux. 0 or -errno.
 */
export function sys_setuid(uid: number): number {
  if (!Number.isInteger(uid) || uid < 0 || uid >= INVALID_UID) return -EINVAL;
  const c = current().cred;
  if (uid === c.uid) return 0;
  if (!capable(CAP_SETUID)) return -EPERM;
  if (c.uid === 0) c.cap_permitted = c.cap_effective = 0n; // cap_emulate_setxuid
  c.uid = uid;
  return 0;
}

/**
 * What `su UID` does in its new process, the way su plus pam_keyinit do it: needs
 * CAP_SETUID (-EPERM), then setuid/setgid to UID and a fresh session keyring; the
 * process is then the user's shell ("sh"). 0 or -errno.
 */
export function do_su(uid: number): number {
  if (!Number.isInteger(uid) || uid < 0 || uid >= INVALID_UID) return -EINVAL;
  const tsk = current();
  if (!capable(CAP_SETUID)) return -EPERM;
  const ret = cred_su(tsk.cred, uid);
  if (ret < 0) return ret;
  set_task_comm(tsk, 'sh');
  return 0;
}
