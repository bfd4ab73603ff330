/**
 * What the filters share: their input (FILE operands through the shell's files, `-`
 * or no operand for standard input), C-locale text (one character per byte, so
 * binary data passes through unchanged), and lines.
 */
import type { ShellIo } from '../../registry.js';
import { FileError, type ShellFiles } from '../../lib/files.js';
import { fromLatin1, latin1, readStdin, writeBytes } from '../../lib/io.js';

export interface Input {
  /** The operand as given ('-' for standard input). */
  name: string;
  /** The contents as a byte string (latin1). */
  text: string;
  /** The file's size as stat(2) reports it (0 for /proc files), null for standard input. */
  regularSize: number | null;
}

/**
 * Read the operands (standard input when there are none). A file that cannot be read
 * is reported as "NAME: FILE: reason" and left out; `failed` tells the caller.
 */
export function readInputs(name: string, operands: readonly string[], io: ShellIo, files: ShellFiles):
  { inputs: Input[]; failed: boolean } {
  const inputs: Input[] = [];
  let failed = false;
  for (const op of operands.length ? operands : ['-']) {
    if (op === '-') {
      inputs.push({ name: op, text: latin1(readStdin(io)), regularSize: null });
      continue;
    }
    try {
      const bytes = files.read(op);
      // The size stat(2) reports: 0 for /proc and /sys files, as on Linux.
      inputs.push({ name: op, text: latin1(bytes), regularSize: files.stat(op)?.size ?? bytes.length });
    } catch (e) {
      if (!(e instanceof FileError)) throw e;
      io.err(`${name}: ${op}: ${e.message}\n`);
      failed = true;
    }
  }
  return { inputs, failed };
}

/** Write a byte string. */
export function put(io: ShellIo, text: string): void {
  if (text !== '') writeBytes(io, fromLatin1(text));
}

/** Lines of a text, without their newlines; a last line without one still counts. */
export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Lines back to text, each ended by a newline. */
export function joinLines(lines: readonly string[]): string {
  return lines.length ? lines.join('\n') + '\n' : '';
}

/** A count operand (head -n, tail -n, ...): a non-negative decimal with K/M suffixes as in coreutils. */
export function parseCount(s: string): number | null {
  const m = /^([0-9]+)(b|k|K|kB|KB|m|M|MB|G)?$/.exec(s);
  if (!m) return null;
  const mult: Record<string, number> = { b: 512, k: 1024, K: 1024, kB: 1000, KB: 1000, m: 1048576, M: 1048576, MB: 1e6, G: 1073741824 };
  return Number(m[1]) * (m[2] ? mult[m[2]] : 1);
}
