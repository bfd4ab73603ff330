/**
 * open(2) and close(2) (Linux fs/open.c, fs/namei.c's path walk reduced to two
 * filesystems): /dev/... is devtmpfs (fs/devtmpfs.ts), everything else the /proc and
 * /sys pseudo-filesystem (fs/proc/generic.ts).
 *
 *   sys_open(path, flags, mode) -> fd | -errno
 *     lookup (-ENOENT, -ENOTDIR), O_CREAT|O_EXCL on an existing file (-EEXIST),
 *     O_DIRECTORY on a non-directory (-ENOTDIR), write access to a directory (-EISDIR),
 *     DAC on the inode's mode (generic_permission: -EACCES), then the file's open:
 *     a character device's driver (chrdev_open; capability checks live there, e.g.
 *     CAP_SYS_RAWIO for /dev/mem and /dev/cpu/N/msr: -EPERM), or procfs's, which
 *     produces the text once (seq_file's first read) as the opener.
 *   sys_close(fd) -> 0 | -EBADF
 *
 * Nothing is created: a pseudo-filesystem has no regular files (O_CREAT of a missing
 * path is -ENOENT). O_ACCMODE 3 (Linux's "ioctl only" mode) is refused with -EINVAL.
 */
import { current } from '../kernel/sched.js';
import { EBADF, EEXIST, EINVAL, EISDIR, EMFILE, ENOTDIR } from '../kernel/errno.js';
import type { cred } from '../kernel/cred.js';
import { chrdev_open } from './char_dev.js';
import { blkdev_open } from './block_dev.js';
import { devtmpfs_lookup, is_dev_path } from './devtmpfs.js';
import {
  FMODE_LSEEK, FMODE_PREAD, FMODE_PWRITE, FMODE_READ, FMODE_WRITE, O_ACCMODE, O_CREAT, O_DIRECTORY,
  O_EXCL, O_NOCTTY, O_RDWR, O_TRUNC, O_WRONLY, S_IFBLK, S_IFCHR, S_IFDIR, S_IFMT, S_IFREG,
  fd_install_lowest, file_close_fd, fput, type file, type file_operations, type inode,
} from './file.js';
import { MAY_READ, MAY_WRITE, generic_permission } from './namei.js';
import {
  proc_lookup_file, proc_lookup_store, proc_normalize, proc_run_show, type proc_show, type proc_store,
} from './proc/generic.js';
import { IS_ERR } from '../kernel/err.js';

const PROC_FILE_MODE = S_IFREG | 0o444;
const PROC_RW_FILE_MODE = S_IFREG | 0o644;

interface proc_inode_data { show: proc_show; store: proc_store | null }
const PROC_DIR_MODE = S_IFDIR | 0o555;

/** A procfs file: its text made at open, read from f_pos (seq_read on a single_open file). */
const proc_file_ops: file_operations = {
  open(inode, filp) {
    const data = inode.i_private as proc_inode_data;
    // a write-only open of a sysfs attribute does not run its show (kernfs_fop_open)
    if (!(filp.f_mode & FMODE_READ)) { filp.private_data = new Uint8Array(0); return 0; }
    const text = proc_run_show(data.show, filp.f_path);
    if (IS_ERR(text)) return text;
    filp.private_data = new TextEncoder().encode(text);
    return 0;
  },
  write(filp, buf) {
    const store = (filp.f_inode.i_private as proc_inode_data).store;
    if (!store) return -EINVAL;
    const ret = store(new TextDecoder().decode(buf));
    return ret < 0 ? ret : buf.length;
  },
  read(filp, buf, pos) {
    const data = filp.private_data as Uint8Array;
    if (pos >= data.length) return 0;
    const n = Math.min(buf.length, data.length - pos);
    buf.set(data.subarray(pos, pos + n));
    return n;
  },
  llseek(filp, offset, whence) {
    const size = (filp.private_data as Uint8Array).length;
    const pos = whence === 0 ? offset : whence === 1 ? filp.f_pos + offset : size + offset;
    return pos < 0 ? -EINVAL : pos;
  },
};

/** A directory opened for reading: nothing to read (getdents is not provided). */
const dir_ops: file_operations = {
  read: () => -EISDIR,
};

/** Look `path` up in the filesystem that holds it: an inode or -errno. */
function path_lookup(path: string): inode | number {
  if (is_dev_path(path)) return devtmpfs_lookup(path);
  const n = proc_lookup_file(path);
  if (IS_ERR(n)) return n;
  if (n === 'dir') return { i_mode: PROC_DIR_MODE, i_uid: 0, i_gid: 0, i_rdev: 0 };
  const store = proc_lookup_store(path);
  const data: proc_inode_data = { show: n, store };
  return { i_mode: store ? PROC_RW_FILE_MODE : PROC_FILE_MODE, i_uid: 0, i_gid: 0, i_rdev: 0, i_private: data };
}

/**
 * The opener's credentials as the file keeps them (f_cred = get_cred(current_cred())).
 * Linux's creds are immutable; this tree's are changed in place by su, so the file
 * keeps a copy of the identity and capabilities (keyring pointers are not used).
 */
function file_cred(c: cred): cred {
  return Object.freeze({ ...c, groups: [...c.groups] });
}

/** do_filp_open for `path`: a new struct file (not yet in any table), or -errno. */
export function filp_open(path: string, flags: number, _mode = 0): file | number {
  if (typeof path !== 'string' || path === '' || !Number.isInteger(flags) || flags < 0) return -EINVAL;
  const acc = flags & O_ACCMODE;
  if (acc === O_ACCMODE) return -EINVAL;
  const abs = path.startsWith('/') ? path : '/' + path;
  const inode = path_lookup(abs);
  if (IS_ERR(inode)) return inode;
  if ((flags & O_CREAT) && (flags & O_EXCL)) return -EEXIST;
  const type = inode.i_mode & S_IFMT;
  if ((flags & O_DIRECTORY) && type !== S_IFDIR) return -ENOTDIR;
  const wants_write = acc === O_WRONLY || acc === O_RDWR || (flags & O_TRUNC) !== 0;
  if (type === S_IFDIR && wants_write) return -EISDIR;
  const c = current().cred;
  const mask = (acc !== O_WRONLY ? MAY_READ : 0) | (wants_write ? MAY_WRITE : 0);
  const perm = generic_permission(c, inode, mask);
  if (perm < 0) return perm;
  const f: file = {
    f_op: type === S_IFDIR ? dir_ops : proc_file_ops,
    f_flags: flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC),
    f_mode: (acc !== O_WRONLY ? FMODE_READ : 0) | (acc === O_WRONLY || acc === O_RDWR ? FMODE_WRITE : 0) |
      FMODE_LSEEK | FMODE_PREAD | FMODE_PWRITE,
    f_pos: 0,
    private_data: null,
    f_cred: file_cred(c),
    f_inode: inode,
    f_path: is_dev_path(abs) ? abs : proc_normalize(abs),
    f_count: 1,
  };
  let ret = 0;
  if (type === S_IFCHR) ret = chrdev_open(inode, f);
  else if (type === S_IFBLK) ret = blkdev_open(inode, f);
  else if (type !== S_IFDIR) ret = proc_file_ops.open!(inode, f);
  return ret < 0 ? ret : f;
}

/** open(2): the lowest free descriptor, or -errno. */
export function sys_open(path: string, flags: number, mode = 0): number {
  const files = current().files;
  if (!files) return -EBADF;
  const f = filp_open(path, flags, mode);
  if (IS_ERR(f)) return f;
  const fd = fd_install_lowest(files, f, EMFILE);
  if (fd < 0) fput(f);
  return fd;
}

/** close(2): 0, or -EBADF for a descriptor that is not open. */
export function sys_close(fd: number): number {
  const files = current().files;
  const f = files ? file_close_fd(files, fd) : null;
  if (!f) return -EBADF;
  fput(f);
  return 0;
}

export { O_RDONLY, O_RDWR, O_WRONLY } from './file.js';
