/**
 * Open files and the per-task file table (Linux include/linux/fs.h for struct file,
 * struct inode and struct file_operations; fs/file.c and fs/file_table.c for the table,
 * fget/fput and the copy at fork).
 *
 * A task's `files` is a files_struct: fd -> struct file. fork copies the table
 * (dup_fd: the child's descriptors refer to the same open files, each file's f_count
 * raised); exit closes every descriptor (exit_files); the last fput of a file calls
 * its driver's release. Descriptors are allocated lowest-first, as POSIX requires, up
 * to RLIMIT_NOFILE's default soft limit (1024): -EMFILE beyond.
 *
 * This file holds no module-level state: everything hangs off the task.
 */
import type { cred } from '../kernel/cred.js';
import type { vm_area_struct } from '../mm/vma.js';

/* open(2) flags (include/uapi/asm-generic/fcntl.h, x86 values). */
export const O_ACCMODE = 0o3;
export const O_RDONLY = 0o0;
export const O_WRONLY = 0o1;
export const O_RDWR = 0o2;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_NOCTTY = 0o400;
export const O_TRUNC = 0o1000;
export const O_APPEND = 0o2000;
export const O_NONBLOCK = 0o4000;
export const O_DSYNC = 0o10000;
export const O_LARGEFILE = 0o100000;
export const O_DIRECTORY = 0o200000;
export const O_NOFOLLOW = 0o400000;
export const O_CLOEXEC = 0o2000000;
export const O_SYNC = 0o4010000;

/* file->f_mode bits (include/linux/fs.h). */
export const FMODE_READ = 0x1;
export const FMODE_WRITE = 0x2;
export const FMODE_LSEEK = 0x4;
export const FMODE_PREAD = 0x8;
export const FMODE_PWRITE = 0x10;
/** /dev/mem's offsets are physical addresses and may be "negative" as loff_t (mem.c). */
export const FMODE_UNSIGNED_OFFSET = 0x2000;

/* lseek whence. */
export const SEEK_SET = 0;
export const SEEK_CUR = 1;
export const SEEK_END = 2;

/* i_mode file types and permission bits (include/uapi/linux/stat.h). */
export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFREG = 0o100000;

/** The soft RLIMIT_NOFILE a process starts with (INR_OPEN_CUR). */
export const NR_OPEN_DEFAULT = 1024;

/** Device numbers (include/linux/kdev_t.h): 12-bit major, 20-bit minor. */
export const MINORBITS = 20;
export function MKDEV(major: number, minor: number): number { return major * (1 << MINORBITS) + minor; }
export function MAJOR(dev: number): number { return Math.floor(dev / (1 << MINORBITS)); }
export function MINOR(dev: number): number { return dev % (1 << MINORBITS); }

/** The file an inode describes, for DAC checks and for the driver (struct inode). */
export interface inode {
  /** File type and permission bits (S_IFCHR | 0o600 ...). */
  i_mode: number;
  i_uid: number;
  i_gid: number;
  /** Device number for character devices (MKDEV), 0 otherwise. */
  i_rdev: number;
  /** For the filesystem that made the inode (procfs keeps its show function here). */
  i_private?: unknown;
}

/**
 * What a driver implements (struct file_operations). Negative returns are -errno. An
 * ioctl's `arg` is a typed object in this tree (a documented simplification of a
 * user pointer): the driver validates its shape and returns -EFAULT / -EINVAL.
 */
export interface file_operations {
  open?(inode: inode, file: file): number;
  release?(inode: inode, file: file): number;
  /** Read up to buf.length bytes at `pos` into buf: the count (0 at end), or -errno. */
  read?(file: file, buf: Uint8Array, pos: number): number;
  /** Write buf at `pos`: the count written, or -errno. */
  write?(file: file, buf: Uint8Array, pos: number): number;
  unlocked_ioctl?(file: file, cmd: number, arg: unknown): number | bigint;
  /** The new position, or -errno. Without it, SEEK_SET/SEEK_CUR move f_pos (default_llseek). */
  llseek?(file: file, offset: number, whence: number): number;
  mmap?(file: file, vma: vm_area_struct): number;
}

/** An open file (struct file). */
export interface file {
  f_op: file_operations;
  /** open(2) flags, O_CREAT/O_EXCL/O_NOCTTY/O_TRUNC removed (as do_dentry_open keeps them). */
  f_flags: number;
  f_mode: number;
  f_pos: number;
  private_data: unknown;
  /** The opener's credentials, for checks done later (file_ns_capable). */
  f_cred: cred;
  f_inode: inode;
  /** The path it was opened by (for messages; d_path). */
  f_path: string;
  /** References: descriptors (in any task's table) plus in-kernel users. */
  f_count: number;
}

/** A task's descriptor table (struct files_struct with its fdtable). */
export interface files_struct {
  fd: (file | null)[];
}

/** An empty table (the init task's, init_files). */
export function files_alloc(): files_struct {
  return { fd: [] };
}

/** get_file: one more reference. */
export function get_file(f: file): file {
  f.f_count++;
  return f;
}

/** fput: drop a reference; the last one calls the driver's release (__fput). */
export function fput(f: file): void {
  if (--f.f_count > 0) return;
  f.f_op.release?.(f.f_inode, f);
  f.private_data = null;
}

/** The file at descriptor `fd` of `files`, or null (files_lookup_fd_raw). */
export function files_lookup_fd(files: files_struct | null, fd: number): file | null {
  if (!files || !Number.isInteger(fd) || fd < 0 || fd >= files.fd.length) return null;
  return files.fd[fd];
}

/** alloc_fd + fd_install: the lowest free descriptor now refers to `f`; or -EMFILE. */
export function fd_install_lowest(files: files_struct, f: file, emfile: number): number {
  let fd = files.fd.indexOf(null);
  if (fd < 0) fd = files.fd.length;
  if (fd >= NR_OPEN_DEFAULT) return -emfile;
  files.fd[fd] = f;
  return fd;
}

/** close_fd: take descriptor `fd` out of the table; its file, or null if it was not open. */
export function file_close_fd(files: files_struct, fd: number): file | null {
  const f = files_lookup_fd(files, fd);
  if (!f) return null;
  files.fd[fd] = null;
  while (files.fd.length && files.fd[files.fd.length - 1] === null) files.fd.pop();
  return f;
}

/** dup_fd at fork: a new table whose descriptors refer to the same open files. */
export function dup_fd(old: files_struct | null): files_struct {
  const files = files_alloc();
  if (old) files.fd = old.fd.map((f) => (f ? get_file(f) : null));
  return files;
}

/** exit_files / put_files_struct: the task's descriptors are all closed. */
export function close_files(files: files_struct | null): void {
  if (!files) return;
  const all = files.fd;
  files.fd = [];
  for (const f of all) if (f) fput(f);
}

/** How many descriptors are open (for /proc/PID/status FDSize-like reports and tests). */
export function files_count(files: files_struct | null): number {
  return files ? files.fd.reduce((n, f) => n + (f ? 1 : 0), 0) : 0;
}
