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
