/**
 * cat: print files the way coreutils' cat does: the kernel's (/proc, /sys, /dev),
 * opened as the shell's process with open(2), read(2) to the end, close(2), so the
 * kernel checks the opener (a file's mode, a driver's capability checks, procfs's
 * per-reader views such as /proc/keys and /proc/iomem); host files; standard input
 * without operands or for `-`. A file that cannot be read is reported as coreutils
 * does ("cat: F: No such file or directory"); the others are still printed, and the
 * status is then 1. At most 1 MiB is printed from one kernel file.
 */
import type { Command } from '../registry.js';
import { filesOf } from '../lib/kernel_files.js';
import { FileError } from '../lib/files.js';
import { readStdin, writeBytes } from '../lib/io.js';

export const catCommand: Command<unknown> = {
  name: 'cat',
  usage: 'cat [FILE...]',
  summary: 'print files (/proc, /sys, /dev, host files) or standard input',
  run(ctx, args, io, sh) {
    let status = 0;
    for (const path of args.length ? args : ['-']) {
      try {
        writeBytes(io, path === '-' ? readStdin(io) : filesOf(ctx, sh).read(path));
      } catch (e) {
        if (!(e instanceof FileError)) throw e;
        io.err(`cat: ${path}: ${e.message}\n`);
        status = 1;
      }
    }
    return status;
  },
};
