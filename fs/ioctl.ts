/**
 * ioctl(2) (Linux fs/ioctl.c): the driver's unlocked_ioctl on the current task's
 * descriptor. -EBADF for a descriptor that is not open, -ENOTTY when the file has no
 * ioctls (a /proc file, /dev/mem). `arg` is a typed object in this tree, standing in
 * for the user pointer: the driver checks its shape (-EFAULT / -EINVAL).
 */
import { EBADF, EINVAL, ENOTTY } from '../kernel/errno.js';
import { fdget } from './read_write.js';

/** ioctl(fd, cmd, arg): the driver's result (a number or, for 64-bit values, a bigint) or -errno. */
export function sys_ioctl(fd: number, cmd: number, arg?: unknown): number | bigint {
  const f = fdget(fd);
  if (!f) return -EBADF;
  if (!Number.isInteger(cmd) || cmd < 0 || cmd > 0xffffffff) return -EINVAL;
  if (!f.f_op.unlocked_ioctl) return -ENOTTY;
  return f.f_op.unlocked_ioctl(f, cmd, arg);
}
