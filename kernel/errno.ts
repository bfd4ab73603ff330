/**
 * errno values (include/uapi/asm-generic/errno-base.h and errno.h, the numbering x86
 * uses) and their C-library messages, for the process and memory system calls and the
 * shell's "NAME: strerror" lines. Kernel functions return these negated.
 */

export const EPERM = 1;
export const ENOENT = 2;
export const ESRCH = 3;
export const EINTR = 4;
export const EIO = 5;
export const E2BIG = 7;
export const EBADF = 9;
export const ECHILD = 10;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EACCES = 13;
export const EFAULT = 14;
export const EBUSY = 16;
export const EEXIST = 17;
export const ENODEV = 19;
export const ENXIO = 6;
export const ENOTDIR = 20;
export const EISDIR = 21;
export const EINVAL = 22;
export const ENFILE = 23;
export const EMFILE = 24;
export const ENOTTY = 25;
export const ENOSPC = 28;
export const ESPIPE = 29;
export const ERANGE = 34;
export const EDEADLK = 35;
export const ENAMETOOLONG = 36;
export const ENOSYS = 38;
export const ELOOP = 40;
export const EOVERFLOW = 75;
export const EOPNOTSUPP = 95;
export const EDQUOT = 122;
export const ENOKEY = 126;
export const EKEYEXPIRED = 127;
export const EKEYREVOKED = 128;
export const EKEYREJECTED = 129;

/** glibc's strerror() text for each value above. */
const MESSAGES: Record<number, string> = {
  [EPERM]: 'Operation not permitted',
  [ENOENT]: 'No such file or directory',
  [ESRCH]: 'No such process',
  [EINTR]: 'Interrupted system call',
  [EIO]: 'Input/output error',
  [E2BIG]: 'Argument list too long',
  [EBADF]: 'Bad file descriptor',
  [ECHILD]: 'No child processes',
  [EAGAIN]: 'Resource temporarily unavailable',
  [ENOMEM]: 'Cannot allocate memory',
  [EACCES]: 'Permission denied',
  [EFAULT]: 'Bad address',
  [EBUSY]: 'Device or resource busy',
  [EEXIST]: 'File exists',
  [ENODEV]: 'No such device',
  [EINVAL]: 'Invalid argument',
  [ENFILE]: 'Too many open files in system',
  [EMFILE]: 'Too many open files',
  [ENOTTY]: 'Inappropriate ioctl for device',
  [ESPIPE]: 'Illegal seek',
  [ENOSYS]: 'Function not implemented',
  [EOVERFLOW]: 'Value too large for defined data type',
  [EOPNOTSUPP]: 'Operation not supported',
  [ENXIO]: 'No such device or address',
  [ENOTDIR]: 'Not a directory',
  [EISDIR]: 'Is a directory',
  [ENOSPC]: 'No space left on device',
  [ERANGE]: 'Numerical result out of range',
  [EDEADLK]: 'Resource deadlock avoided',
  [ENAMETOOLONG]: 'File name too long',
  [ELOOP]: 'Too many levels of symbolic links',
  [EDQUOT]: 'Disk quota exceeded',
  [ENOKEY]: 'Required key not available',
  [EKEYEXPIRED]: 'Key has expired',
  [EKEYREVOKED]: 'Key has been revoked',
  [EKEYREJECTED]: 'Key was rejected by service',
};

/** strerror(errno): accepts the positive or the negated value. */
export function strerror(err: number): string {
  return MESSAGES[Math.abs(err)] ?? `Unknown error ${Math.abs(err)}`;
}
