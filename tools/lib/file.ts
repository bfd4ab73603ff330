/**
 * Files from the shell's commands: open a path as the shell's process, use the
 * descriptor, close it (as a tool's main() would), all through the kernel's system
 * calls (fs/open.ts, fs/read_write.ts), so every check happens in the kernel as the
 * task the shell runs as. The errno comes back to the tool, which prints it in its
 * own words.
 */
import { sys_close, sys_open } from '../../fs/open.js';
import { sys_pread64, sys_read } from '../../fs/read_write.js';
import { as_task, type ProcessShellContext } from './process.js';

/** A system call's result: the value, or the errno (positive) it failed with. */
export type sys_result<T> = { ok: true; value: T } | { ok: false; errno: number };

/**
 * Open `path` with `flags` as the shell's task and run `fn(fd)` there; the descriptor
 * is closed afterwards whatever fn does. An open failure gives { errno } and fn does
 * not run.
 */
export function with_open<T>(ctx: ProcessShellContext, path: string, flags: number,
  fn: (fd: number) => T): sys_result<T> {
  return as_task(ctx, () => {
    const fd = sys_open(path, flags, 0);
    if (fd < 0) return { ok: false, errno: -fd };
    try {
      return { ok: true, value: fn(fd) };
    } finally {
      sys_close(fd);
    }
  });
}

/** pread64 of exactly buf.length bytes: 0, or the errno (EIO for a short read). */
export function pread_full(fd: number, buf: Uint8Array, pos: number): number {
  const n = sys_pread64(fd, buf, pos);
  if (n < 0) return -n;
  return n === buf.length ? 0 : 5;
}

/** Read the whole file (up to `limit` bytes): the bytes, or the errno. */
export function read_all(fd: number, limit = 1 << 20): Uint8Array | number {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const buf = new Uint8Array(4096);
    const n = sys_read(fd, buf);
    if (n < 0) return -n;
    if (n === 0 || total >= limit) break;
    chunks.push(buf.subarray(0, n));
    total += n;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) { out.set(c, at); at += c.length; }
  return out;
}
