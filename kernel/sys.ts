/**
 * Small process system calls (Linux kernel/sys.c) and the x86-64 numbers of every
 * system call this tree implements, for reference and for tools that want a table.
 * The bodies live where Linux keeps them: fork in fork.c, exit and wait4 in exit.c,
 * mmap and munmap in mmap.c, mprotect and encrypt_mprotect in mprotect.c.
 */
import { current, set_task_comm } from './sched.js';
import { capable_setuid, cred_su, INVALID_UID } from './cred.js';
import { sys_fork } from './fork.js';
import { sys_exit, sys_wait4 } from './exit.js';
import { sys_mmap, sys_munmap } from '../mm/mmap.js';
import { sys_encrypt_mprotect, sys_mprotect } from '../mm/mprotect.js';
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
  if (!capable_setuid(c)) return -EPERM;
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
  if (!capable_setuid(tsk.cred)) return -EPERM;
  const ret = cred_su(tsk.cred, uid);
  if (ret < 0) return ret;
  set_task_comm(tsk, 'sh');
  return 0;
}

/** x86-64 system call numbers (arch/x86/entry/syscalls/syscall_64.tbl); 434 as in the MKTME demo. */
export const sys_call_table: readonly { nr: number; name: string; fn: (...args: number[]) => unknown }[] = [
  { nr: 9, name: 'mmap', fn: sys_mmap },
  { nr: 10, name: 'mprotect', fn: sys_mprotect },
  { nr: 11, name: 'munmap', fn: sys_munmap },
  { nr: 39, name: 'getpid', fn: sys_getpid },
  { nr: 57, name: 'fork', fn: sys_fork },
  { nr: 60, name: 'exit', fn: sys_exit },
  { nr: 61, name: 'wait4', fn: (pid: number) => sys_wait4(pid) },
  { nr: 102, name: 'getuid', fn: sys_getuid },
  { nr: 105, name: 'setuid', fn: sys_setuid },
  { nr: 110, name: 'getppid', fn: sys_getppid },
  { nr: 434, name: 'encrypt_mprotect', fn: sys_encrypt_mprotect },
];
