/**
 * cat: print files: the kernel's pseudo-filesystems (/proc, /sys, through vfs_read) or
 * host files; standard input without operands or for `-`. A file that cannot be read
 * is reported as coreutils does ("cat: F: No such file or directory"); the others are
 * still printed, and the status is then 1.
 */
import type { Command } from '../registry.js';
import { FileError } from '../lib/files.js';
import { readStdin, writeBytes } from '../lib/io.js';

export const catCommand: Command<unknown> = {
  name: 'cat',
  usage: 'cat [FILE...]',
  summary: 'print files (/proc, /sys, host files) or standard input',
  run(_ctx, args, io, sh) {
    let status = 0;
    for (const path of args.length ? args : ['-']) {
      try {
        writeBytes(io, path === '-' ? readStdin(io) : sh.files.read(path));
      } catch (e) {
        if (!(e instanceof FileError)) throw e;
        io.err(`cat: ${path}: ${e.message}\n`);
        status = 1;
      }
    }
    return status;
  },
};
