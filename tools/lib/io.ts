/**
 * The shell's streams. A command writes text (io.out, io.err) or bytes (writeBytes),
 * and reads its standard input (readStdin): what a pipe, `< FILE` or the host gives it.
 * Text is UTF-8 wherever it becomes bytes.
 *
 * processIo is the real thing on the process's stdout/stderr/stdin; bufferIo keeps
 * everything in memory for tests and the golden-transcript harness.
 */
import * as fs from 'node:fs';

/**
 * A command's standard input (the shell runs pipeline stages in turn, so a stage's
 * input is all there when it starts). Reading consumes, as reading a descriptor does:
 * after `read x` took a line, the next reader gets the rest.
 */
export interface ShellInput {
  /** The rest of the input. */
  bytes(): Uint8Array;
  /** The next line without its newline (`complete` false at the end without one); null at the end. */
  line(): { text: Uint8Array; complete: boolean } | null;
}

/** Where a command writes. Text is written as is: commands end their lines with '\n'. */
export interface ShellIo {
  out(s: string): void;
  err(s: string): void;
  /** Output goes to a terminal (commands may choose a friendlier layout). */
  isTty: boolean;
  /** Raw bytes to standard output; absent: they are decoded as UTF-8 and go to out. */
  outBytes?(b: Uint8Array): void;
  /** Standard input; absent: empty, as with `< /dev/null`. */
  stdin?: ShellInput;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8');
export const EMPTY_BYTES = new Uint8Array(0);

export function utf8(s: string): Uint8Array { return encoder.encode(s); }
export function fromUtf8(b: Uint8Array): string { return decoder.decode(b); }
/** Bytes as a string of code units 0..255 (C-locale text: one character per byte). */
export function latin1(b: Uint8Array): string { return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1'); }
/** The inverse of latin1(). */
export function fromLatin1(s: string): Uint8Array { return new Uint8Array(Buffer.from(s, 'latin1')); }

/** Write bytes to a command's stdout, through a pipe or a file unchanged. */
export function writeBytes(io: ShellIo, b: Uint8Array): void {
  if (io.outBytes) io.outBytes(b); else io.out(fromUtf8(b));
}

/** The command's whole standard input. */
export function readStdin(io: ShellIo): Uint8Array {
  return io.stdin ? io.stdin.bytes() : EMPTY_BYTES;
}

/** Input from bytes, text, or a function called (once) on first read. */
export function inputOf(src: Uint8Array | string | (() => Uint8Array)): ShellInput {
  let data: Uint8Array | null = typeof src === 'string' ? utf8(src) : typeof src === 'function' ? null : src;
  let pos = 0;
  const all = (): Uint8Array => {
    if (data === null) data = (src as () => Uint8Array)();
    return data;
  };
  return {
    bytes() {
      const d = all();
      const rest = d.subarray(pos);
      pos = d.length;
      return rest;
    },
    line() {
      const d = all();
      if (pos >= d.length) return null;
      const nl = d.indexOf(10, pos);
      const end = nl < 0 ? d.length : nl;
      const text = d.subarray(pos, end);
      pos = nl < 0 ? d.length : nl + 1;
      return { text, complete: nl >= 0 };
    },
  };
}

/** Collects what a command writes (a pipe, a command substitution). */
export class OutputBuffer {
  private chunks: Uint8Array[] = [];
  private length = 0;
  write(chunk: string | Uint8Array): void {
    // A copy: the writer may reuse or zero its buffer (key material) once written.
    const b = typeof chunk === 'string' ? utf8(chunk) : chunk.slice();
    this.chunks.push(b);
    this.length += b.length;
  }
  get size(): number { return this.length; }
  bytes(): Uint8Array {
    if (this.chunks.length !== 1) this.chunks = [new Uint8Array(Buffer.concat(this.chunks))];
    return this.chunks[0] ?? EMPTY_BYTES;
  }
}

/**
 * Output to process.stdout / process.stderr. A reader that goes away (`shell | head`)
 * makes further output vanish instead of crashing the process with EPIPE. Standard
 * input is the host's, read when a command first asks for it (never, in interactive
 * mode, where the terminal belongs to the prompt; pass `stdin: false`).
 */
export function processIo(stdin = true): ShellIo {
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
    // Buffer.from copies: the write completes later, the caller may zero its buffer now.
    outBytes(b) { if (!closed) process.stdout.write(Buffer.from(b)); },
    isTty: Boolean(process.stdout.isTTY),
    stdin: stdin ? inputOf(readHostStdin) : undefined,
  };
}

function readHostStdin(): Uint8Array {
  try {
    return new Uint8Array(fs.readFileSync(0));
  } catch {
    return EMPTY_BYTES; // closed or unreadable: as if empty
  }
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

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Bytes as text for a transcript: UTF-8 when they are, else one character per byte. */
function transcriptText(b: Uint8Array): string {
  try {
    return strictUtf8.decode(b);
  } catch {
    return latin1(b);
  }
}

/**
 * An in-memory ShellIo (isTty false unless asked); `stdin` is what commands read.
 * Bytes written with outBytes are kept as transcriptText shows them.
 */
export function bufferIo(isTty = false, stdin?: string | Uint8Array): BufferIo {
  let stdout = '';
  let stderr = '';
  let all = '';
  const io: ShellIo = {
    out(s) { stdout += s; all += s; },
    err(s) { stderr += s; all += s; },
    outBytes(b) { io.out(transcriptText(b)); },
    isTty,
  };
  if (stdin !== undefined) io.stdin = inputOf(stdin);
  return {
    io,
    get stdout() { return stdout; },
    get stderr() { return stderr; },
    get all() { return all; },
  };
}
