/**
 * ShellIo implementations: the real one on the process's stdout/stderr, and a buffer
 * that tests and the golden-transcript harness read back.
 */
import type { ShellIo } from '../registry.js';

/**
 * Output to process.stdout / process.stderr. A reader that goes away (`shell | head`)
 * makes further output vanish instead of crashing the process with EPIPE.
 */
export function processIo(): ShellIo {
  let closed = false;
  const onError = (e: NodeJS.ErrnoException): void => {
    if (e.code === 'EPIPE') { closed = true; return; }
    throw e;
  };
  process.stdout.on('error', onError);
  process.stderr.on('error', onError);
  return {
    out(s) { if (!closed) process.stdout.write(s); },
    err(s) { if (!closed) process.stderr.write(s); },
    isTty: Boolean(process.stdout.isTTY),
  };
}

export interface BufferIo {
  io: ShellIo;
  /** Everything written to out. */
  readonly stdout: string;
  /** Everything written to err. */
  readonly stderr: string;
  /** Both, interleaved in the order written. */
  readonly all: string;
}

/** An in-memory ShellIo (isTty false unless asked). */
export function bufferIo(isTty = false): BufferIo {
  let stdout = '';
  let stderr = '';
  let all = '';
  return {
    io: {
      out(s) { stdout += s; all += s; },
      err(s) { stderr += s; all += s; },
      isTty,
    },
    get stdout() { return stdout; },
    get stderr() { return stderr; },
    get all() { return all; },
  };
}
