/**
 * The kernel shell's files: /proc and /sys are the kernel's pseudo-filesystems, read
 * through vfs_read as `cat` reads them (so `grep flags /proc/cpuinfo` and
 * `wc -l < /proc/meminfo` see what cat sees); every other path is the host's
 * (tools/lib/files.ts). Pseudo-files cannot be written from the shell.
 */
import { vfs_isdir, vfs_read, vfs_readdir } from '../../fs/proc/generic.js';
import { EACCES, strerror } from '../../kernel/errno.js';
import { FileError, hostFiles, type ShellFiles } from './files.js';
import { utf8 } from './io.js';

/** Does `path` name something in the kernel's pseudo-filesystems? */
export function isKernelPath(path: string): boolean {
  return /^\/+(proc|sys)(\/|$)/.test(path);
}

export const kernelFiles: ShellFiles = {
  read(path) {
    if (!isKernelPath(path)) return hostFiles.read(path);
    const r = vfs_read(path);
    if (typeof r === 'number') throw new FileError(strerror(r));
    return utf8(r);
  },
  open(path, append) {
    if (!isKernelPath(path)) return hostFiles.open(path, append);
    throw new FileError(strerror(-EACCES));
  },
  stat(path) {
    if (!isKernelPath(path)) return hostFiles.stat(path);
    if (vfs_isdir(path)) return { kind: 'dir', size: 0 };
    const r = vfs_read(path);
    return typeof r === 'number' ? null : { kind: 'file', size: 0 };
  },
  list(dir) {
    if (!isKernelPath(dir + '/')) return hostFiles.list(dir);
    const r = vfs_readdir(dir === '' ? '/' : dir);
    return typeof r === 'number' ? [] : r;
  },
};
