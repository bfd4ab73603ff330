/**
 * The files the shell reaches: redirections (`> FILE`, `>> FILE`, `< FILE`) and the
 * FILE operands of filters (grep, diff, ...). They are the host's files, relative to the
 * host's working directory (the shell is a host program); the kernel shell lays its
 * pseudo-filesystems (/proc, /sys) over them (tools/lib/kernel_files.ts).
 *
 * Errors are thrown as FileError with the strerror text a C program would print.
 */
import * as fs from 'node:fs';

export class FileError extends Error {
  constructor(message: string) { super(message); this.name = 'FileError'; }
}

/** Writing to an open file failed: the command reports "NAME: write error: reason". */
export class WriteError extends FileError {
  constructor(message: string) { super(message); this.name = 'WriteError'; }
}

export interface FileSink {
  write(b: Uint8Array): void;
  close(): void;
}

export interface FileStat { kind: 'file' | 'dir' | 'other'; size: number }

export interface ShellFiles {
  /** The whole file. */
  read(path: string): Uint8Array;
  /** Open for writing, truncating it (or appending). */
  open(path: string, append: boolean): FileSink;
  /** What `test -e/-f/-d/-s` ask; null when it does not exist. */
  stat(path: string): FileStat | null;
  /** Names in a directory, for Tab completion; [] when it cannot be listed. */
  list(dir: string): string[];
}

/** strerror text of a Node.js fs error code. */
export function hostErrorText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  switch (code) {
    case 'ENOENT': return 'No such file or directory';
    case 'EISDIR': return 'Is a directory';
    case 'ENOTDIR': return 'Not a directory';
    case 'EACCES': case 'EPERM': return 'Permission denied';
    case 'EROFS': return 'Read-only file system';
    case 'ENOSPC': return 'No space left on device';
    case 'EEXIST': return 'File exists';
    default: return e instanceof Error ? e.message : String(e);
  }
}

function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw new FileError(hostErrorText(e));
  }
}

/** The host's file system. */
export const hostFiles: ShellFiles = {
  read(path) {
    return guard(() => new Uint8Array(fs.readFileSync(path)));
  },
  open(path, append) {
    const fd = guard(() => fs.openSync(path, append ? 'a' : 'w'));
    return {
      write(b) {
        try {
          fs.writeSync(fd, b);
        } catch (e) {
          throw new WriteError(hostErrorText(e));
        }
      },
      close() { try { fs.closeSync(fd); } catch { /* already reported by write */ } },
    };
  },
  stat(path) {
    try {
      const st = fs.statSync(path);
      return { kind: st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other', size: st.size };
    } catch {
      return null;
    }
  },
  list(dir) {
    try {
      return fs.readdirSync(dir === '' ? '.' : dir);
    } catch {
      return [];
    }
  },
};

/**
 * No files at all: what a guest's shell has beyond its own kernel's /proc, /sys and
 * /dev. The host's file system belongs to the host; a guest never reaches it.
 */
export const noFiles: ShellFiles = {
  read() { throw new FileError('No such file or directory'); },
  open() { throw new FileError('Read-only file system'); },
  stat() { return null; },
  list() { return []; },
};
