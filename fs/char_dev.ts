/**
 * Character device registration (Linux fs/char_dev.c): a driver claims a major number
 * with its file_operations; opening a character device node finds the driver by the
 * node's major (chrdev_open) and hands the open to the driver's own open, where the
 * driver's checks live (e.g. /dev/mem's CAP_SYS_RAWIO in open_port).
 *
 *   register_chrdev(major, name, fops)   major 0 picks a free one (returned); -EBUSY, -EINVAL
 *   unregister_chrdev(major, name)
 *
 * As __register_chrdev(major, 0, 256, name, fops) does, a registration covers minors
 * 0..255 of its major. The table is per kernel instance (module state of this kernel's
 * module graph) and emptied at boot by chrdev_init().
 */
import { EBUSY, EINVAL, ENXIO } from '../kernel/errno.js';
import { MAJOR, MINOR, type file, type file_operations, type inode } from './file.js';

export type { file, file_operations, inode } from './file.js';

/** CHRDEV_MAJOR_MAX and the dynamic range find_dynamic_major() searches (234..254, 384..511). */
export const CHRDEV_MAJOR_MAX = 512;
const CHRDEV_MAJOR_DYN_END = 234;
const CHRDEV_MAJOR_DYN_EXT_START = 511;
const CHRDEV_MAJOR_DYN_EXT_END = 384;
/** Minors a register_chrdev() registration covers. */
const CHRDEV_MINORS = 256;

interface char_device_struct { major: number; name: string; fops: file_operations }

let chrdevs = new Map<number, char_device_struct>();

/** Boot (Linux: chrdev_init from vfs_caches_init): no drivers registered. */
export function chrdev_init(): void {
  chrdevs = new Map();
}

function find_dynamic_major(): number {
  for (let i = 254; i >= CHRDEV_MAJOR_DYN_END; i--) if (!chrdevs.has(i)) return i;
  for (let i = CHRDEV_MAJOR_DYN_EXT_START; i >= CHRDEV_MAJOR_DYN_EXT_END; i--) if (!chrdevs.has(i)) return i;
  return -EBUSY;
}

/** register_chrdev: 0 (or the major picked when `major` is 0), -EBUSY or -EINVAL. */
export function register_chrdev(major: number, name: string, fops: file_operations): number {
  if (!Number.isInteger(major) || major < 0 || major >= CHRDEV_MAJOR_MAX || !fops) return -EINVAL;
  const want = major === 0 ? find_dynamic_major() : major;
  if (want < 0) return want;
  if (chrdevs.has(want)) return -EBUSY;
  chrdevs.set(want, { major: want, name, fops });
  return major === 0 ? want : 0;
}

/** unregister_chrdev: forget the driver of `major` (if `name` matches). */
export function unregister_chrdev(major: number, name: string): void {
  const cd = chrdevs.get(major);
  if (cd && cd.name === name) chrdevs.delete(major);
}

/** chrdev_open: the driver of the inode's major takes the open; -ENXIO if none. */
export function chrdev_open(inode: inode, filp: file): number {
  const cd = chrdevs.get(MAJOR(inode.i_rdev));
  if (!cd || MINOR(inode.i_rdev) >= CHRDEV_MINORS) return -ENXIO;
  filp.f_op = cd.fops;
  return cd.fops.open ? cd.fops.open(inode, filp) : 0;
}
