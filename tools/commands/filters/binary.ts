/**
 * Byte input for the dump tools (xxd, hexdump): standard input, or the FILE operands
 * one after the other. null after reporting an unreadable file.
 */
import type { ShellIo } from '../../registry.js';
import { FileError, type ShellFiles } from '../../lib/files.js';
import { readStdin } from '../../lib/io.js';

export function readBinary(name: string, operands: readonly string[], io: ShellIo, files: ShellFiles): Uint8Array | null {
  if (operands.length === 0) return readStdin(io);
  const parts: Uint8Array[] = [];
  for (const f of operands) {
    try {
      parts.push(f === '-' ? readStdin(io) : files.read(f));
    } catch (e) {
      if (!(e instanceof FileError)) throw e;
      io.err(`${name}: ${f}: ${e.message}\n`);
      return null;
    }
  }
  return new Uint8Array(Buffer.concat(parts));
}
