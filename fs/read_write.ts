/**
 * read, write, pread64, pwrite64 and lseek (Linux fs/read_write.c) on the current
 * task's descriptors. The buffer is a Uint8Array in the caller's hands (the tree's
 * stand-in for a user pointer and a count): anything else is -EFAULT.
 *
 *   -EBADF   no such descriptor, or not open for reading (writing)
 *   -EINVAL  the driver has no read (write); negative position without
 *            FMODE_UNSIGNED_OFFSET; bad whence
 *   -ESPIPE  pread/pwrite/lseek on a file that cannot seek
 * read/write advance f_pos by what was transferred; pread/pwrite leave it alone.
 */
import { current } from '../kernel/sched.js';
import { EBADF, EFAULT, EINVAL, ESPIPE } from '../kernel/errno.js';
import {
  FMODE_LSEEK, FMODE_PREAD, FMODE_PWRITE, FMODE_READ, FMODE_UNSIGNED_OFFSET, FMODE_WRITE,
  SEEK_CUR, SEEK_END, SEEK_SET, files_lookup_fd, type file,
} from './file.js';

/** MAX_RW_COUNT: INT_MAX rounded down to a page. */
export const MAX_RW_COUNT = 0x7ffff000;

/** fdget: the current task's file at `fd`, or null. */
export function fdget(fd: number): file | null {
  return files_lookup_fd(current().files, fd);
}

function rw_verify_area(f: file, buf: unknown, pos: number): number {
  if (!(buf instanceof Uint8Array)) return -EFAULT;
  if (!Number.isSafeInteger(pos)) return -EINVAL;
  if (pos < 0 && !(f.f_mode & FMODE_UNSIGNED_OFFSET)) return -EINVAL;
  return 0;
}

function clamp(buf: Uint8Array): Uint8Array {
  return buf.length > MAX_RW_COUNT ? buf.subarray(0, MAX_RW_COUNT) : buf;
}

/** vfs_read: the count read (0 at end of file) or -errno. */
export function vfs_read_file(f: file, buf: Uint8Array, pos: number): number {
  if (!(f.f_mode & FMODE_READ)) return -EBADF;
  if (!f.f_op.read) return -EINVAL;
  const err = rw_verify_area(f, buf, pos);
  if (err) return err;
  if (buf.length === 0) return 0;
  return f.f_op.read(f, clamp(buf), pos);
}

/** vfs_write: the count written or -errno. */
export function vfs_write_file(f: file, buf: Uint8Array, pos: number): number {
  if (!(f.f_mode & FMODE_WRITE)) return -EBADF;
  if (!f.f_op.write) return -EINVAL;
  const err = rw_verify_area(f, buf, pos);
  if (err) return err;
  if (buf.length === 0) return 0;
  return f.f_op.write(f, clamp(buf), pos);
}

/** read(2). */
export function sys_read(fd: number, buf: Uint8Array): number {
  const f = fdget(fd);
  if (!f) return -EBADF;
  const ret = vfs_read_file(f, buf, f.f_pos);
  if (ret > 0) f.f_pos += ret;
  return ret;
}

/** write(2). */
export function sys_write(fd: number, buf: Uint8Array): number {
  const f = fdget(fd);
  if (!f) return -EBADF;
  const ret = vfs_write_file(f, buf, f.f_pos);
  if (ret > 0) f.f_pos += ret;
  return ret;
}

/** pread64(2): read at `pos` without moving f_pos. */
export function sys_pread64(fd: number, buf: Uint8Array, pos: number): number {
  const f = fdget(fd);
  if (!f) return -EBADF;
  if (!(f.f_mode & FMODE_PREAD)) return -ESPIPE;
  return vfs_read_file(f, buf, pos);
}

/** pwrite64(2): write at `pos` without moving f_pos. */
export function sys_pwrite64(fd: number, buf: Uint8Array, pos: number): number {
  const f = fdget(fd);
  if (!f) return -EBADF;
  if (!(f.f_mode & FMODE_PWRITE)) return -ESPIPE;
  return vfs_write_file(f, buf, pos);
}

/** default_llseek without a size: SEEK_SET and SEEK_CUR; SEEK_END needs the driver. */
function default_llseek(f: file, offset: number, whence: number): number {
  if (whence === SEEK_SET) return offset;
  if (whence === SEEK_CUR) return f.f_pos + offset;
  return -EINVAL;
}

/** lseek(2): the new position or -errno. */
export function sys_lseek(fd: number, offset: number, whence: number): number {
  const f = fdget(fd);
  if (!f) return -EBADF;
  if (!(f.f_mode & FMODE_LSEEK)) return -ESPIPE;
  if (!Number.isSafeInteger(offset) || (whence !== SEEK_SET && whence !== SEEK_CUR && whence !== SEEK_END)) {
    return -EINVAL;
  }
  const pos = f.f_op.llseek ? f.f_op.llseek(f, offset, whence) : default_llseek(f, offset, whence);
  if (pos < 0) return Number.isInteger(pos) ? pos : -EINVAL;
  f.f_pos = pos;
  return pos;
}
