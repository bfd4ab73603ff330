/**
 * The kernel shell's files: /proc, /sys and /dev belong to the kernel and are opened
 * as the shell's process through its system calls (tools/lib/file.ts: open, read,
 * write, close), so `grep flags /proc/cpuinfo`, `wc -l < /proc/meminfo` and
 * `2>/dev/null` go through the same permission checks and drivers as `cat` does.
 * Every other path is the host's (tools/lib/files.ts).
 */
import { O_RDONLY, O_WRONLY, sys_close, sys_open } from '../../fs/open.js';
import { sys_write } from '../../fs/read_write.js';
import { vfs_isdir, vfs_readdir } from '../../fs/proc/generic.js';
import { devtmpfs_readdir, is_dev_path } from '../../fs/devtmpfs.js';
import { strerror } from '../../kernel/errno.js';
import { FileError, WriteError, hostFiles, type ShellFiles } from './files.js';
import { read_all, with_open } from './file.js';
import { as_task, type ProcessShellContext } from './process.js';

/** Does `path` name something in the kernel's file systems? */
function isKernelPath(path: string): boolean {
  return /^\/+(proc|sys)(\/|$)/.test(path) || is_dev_path(path);
}

/**
 * A directory of the kernel's file systems, sorted: /proc and /sys (fs/proc), /dev
 * (devtmpfs), and `/`, where all three are mounted. Or a negative errno.
 */
export function kernel_readdir(path: string): string[] | number {
  if (is_dev_path(path)) return devtmpfs_readdir(path);
  const r = vfs_readdir(path);
  return Array.isArray(r) && /^\/+$/.test(path) ? [...new Set([...r, 'dev'])].sort() : r;
}

/**
 * Files as the process of `ctx()` sees them (the context may change: su, switch): the
 * kernel's file systems, and `host` for every other path (the host's files for the
 * host's shell; none for a guest's, see files.ts noFiles).
 */
export function kernelFiles(ctx: () => ProcessShellContext, host: ShellFiles = hostFiles): ShellFiles {
  return {
    read(path) {
      if (!isKernelPath(path)) return host.read(path);
      const r = with_open(ctx(), path, O_RDONLY, (fd) => read_all(fd));
      const err = !r.ok ? r.errno : typeof r.value === 'number' ? r.value : 0;
      if (err || !r.ok || typeof r.value === 'number') throw new FileError(strerror(err));
      return r.value;
    },
    open(path, append) {
      if (!isKernelPath(path)) return host.open(path, append);
      const c = ctx();
      const fd = as_task(c, () => sys_open(path, O_WRONLY, 0));
      if (fd < 0) throw new FileError(strerror(fd));
      return {
        write(b) {
          const n = as_task(c, () => sys_write(fd, b));
          if (n < 0) throw new WriteError(strerror(n));
        },
        close() { as_task(c, () => sys_close(fd)); },
      };
    },
    stat(path) {
      if (!isKernelPath(path)) return host.stat(path);
      if (Array.isArray(kernel_readdir(path)) || vfs_isdir(path)) return { kind: 'dir', size: 0 };
      // Like Linux's procfs and device nodes: st_size 0.
      return with_open(ctx(), path, O_RDONLY, () => 0).ok ? { kind: 'file', size: 0 } : null;
    },
    list(dir) {
      if (!isKernelPath(dir)) return host.list(dir);
      const r = kernel_readdir(dir);
      return typeof r === 'number' ? [] : r;
    },
  };
}

/**
 * The files a command should use: the shell's, or, for a shell built without files of
 * its own (the default host files) whose context is a kernel process (a guest's
 * console shell, a VMM session, a bench rig), the kernel's as that process.
 */
export function filesOf(ctx: unknown, sh: { readonly files: ShellFiles }): ShellFiles {
  if (sh.files !== hostFiles) return sh.files;
  if (typeof ctx === 'object' && ctx !== null && typeof (ctx as { pid?: unknown }).pid === 'number') {
    return kernelFiles(() => ctx as ProcessShellContext);
  }
  return sh.files;
}
