/**
 * Capability checks (Linux kernel/capability.c): does the current task, or a given set
 * of credentials, hold a capability? The numbers and the set type live in
 * include/linux/capability.ts and are re-exported here, so a driver writes
 *
 *   import { capable, CAP_SYS_RAWIO } from '../../kernel/capability.js';
 *   if (!capable(CAP_SYS_RAWIO)) return -EPERM;          // drivers/char/mem.c open_port
 *
 * Credentials carry an effective set (cred->cap_effective): root starts with the full
 * set, `su UID` to a non-zero uid clears it (cap_emulate_setxuid), fork copies it.
 * There are no user namespaces: ns_capable(&init_user_ns, cap) is capable(cap).
 */
import { cap_raised } from '../include/linux/capability.js';
import type { cred } from './cred.js';
import { smp_processor_id } from '../arch/x86/include/asm/processor.js';
import { cpu_curr, current, type task_struct } from './sched.js';

export * from '../include/linux/capability.js';

/** security_capable() under the commoncap LSM: is `cap` in `c`'s effective set? */
export function security_capable(c: cred, cap: number): boolean {
  return cap_raised(c.cap_effective, cap);
}

/** capable(cap): may the current task use `cap`? (ns_capable(&init_user_ns, cap)) */
export function capable(cap: number): boolean {
  return security_capable(current().cred, cap);
}

/** has_capability(t, cap): does task `t` (not necessarily current) hold `cap`? */
export function has_capability(t: task_struct, cap: number): boolean {
  return security_capable(t.cred, cap);
}

/**
 * file_ns_capable(file, ns, cap): did whoever opened the file hold `cap` then? Checks
 * done at read time on a file opened earlier use the opener's credentials (f_cred),
 * as pagemap's PFN check and /proc/iomem's address check do.
 */
export function file_ns_capable(file: { f_cred: cred }, cap: number): boolean {
  return security_capable(file.f_cred, cap);
}

/**
 * For a /proc or /sys show function, which runs as the reader (the file's text is made
 * at open, so current is the opener and current_cred() is f_cred): does the reader
 * hold `cap`? Kernel code reading a file with no task on the CPU is the kernel itself.
 */
export function reader_capable(cap: number): boolean {
  const tsk = cpu_curr(smp_processor_id());
  return tsk ? security_capable(tsk.cred, cap) : true;
}
