/**
 * tee [-a] FILE...: copy standard input to standard output and to each FILE (host
 * files; -a appends), bytes unchanged.
 */
import type { Command } from '../../registry.js';
import { filesOf } from '../../lib/kernel_files.js';
import { getopt } from '../../lib/getopt.js';
import { FileError } from '../../lib/files.js';
import { readStdin, writeBytes } from '../../lib/io.js';

export const teeCommand: Command<unknown> = {
  name: 'tee',
  usage: 'tee [-a] [FILE...]',
  summary: 'copy standard input to files and standard output',
  run(ctx, args, io, sh) {
    const { opts, rest } = getopt(args, 'a');
    const data = readStdin(io);
    let status = 0;
    for (const path of rest) {
      try {
        const f = filesOf(ctx, sh).open(path, opts.length > 0);
        try { f.write(data); } finally { f.close(); }
      } catch (e) {
        if (!(e instanceof FileError)) throw e;
        io.err(`tee: ${path}: ${e.message}\n`);
        status = 1;
      }
    }
    writeBytes(io, data);
    return status;
  },
};
