/**
 * The streams a command runs with (a Frame), as the runner passes them down: the
 * shell's own, a pipe between stages, a file of a redirection.
 */
import { ShellExit } from './control.js';
import { EMPTY_BYTES, OutputBuffer, fromUtf8, inputOf, type ShellInput, type ShellIo } from '../lib/io.js';

/** Where bytes or text go: the terminal, a pipe, a file. */
export interface Sink { write(chunk: string | Uint8Array): void }

/** A command's three standard streams. */
export interface Frame {
  stdin: ShellInput;
  out: Sink;
  err: Sink;
  /** Standard output is the terminal. */
  isTty: boolean;
}

/** Largest output one pipe stage or substitution may collect (a runaway loop ends). */
const PIPE_MAX = 256 * 1024 * 1024;

const STATUS_PIPE_FULL = 1;

/** A frame writing to a ShellIo (the shell's own streams). */
export function frameOf(io: ShellIo, stdin: ShellInput | undefined): Frame {
  return {
    stdin: stdin ?? inputOf(EMPTY_BYTES),
    out: { write: (c) => (typeof c === 'string' ? io.out(c) : io.outBytes ? io.outBytes(c) : io.out(fromUtf8(c))) },
    err: { write: (c) => io.err(typeof c === 'string' ? c : fromUtf8(c)) },
    isTty: io.isTty,
  };
}

/** The ShellIo a command sees for a frame. */
export function ioOf(f: Frame): ShellIo {
  return {
    out: (s) => f.out.write(s),
    err: (s) => f.err.write(s),
    outBytes: (b) => f.out.write(b),
    isTty: f.isTty,
    stdin: f.stdin,
  };
}

export class PipeBuffer extends OutputBuffer {
  override write(chunk: string | Uint8Array): void {
    super.write(chunk);
    if (this.size > PIPE_MAX) throw new ShellExit(STATUS_PIPE_FULL, 'subshell');
  }
}
