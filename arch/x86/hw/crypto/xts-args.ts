/**
 * The line cipher's argument checks (xts.ts): a span inside its array, the line path's
 * inlinable all-in-one test, and a list of runs. Each throws RangeError on bad input,
 * before anything is written.
 */
import { checkAddr } from './xts-ref.js';

const LINE_BYTES = 64;
const MAX_ADDR = 2 ** 53;

export function checkSpan(name: string, b: Uint8Array, off: number, len: number): void {
  if (!(b instanceof Uint8Array) || !Number.isInteger(off) || off < 0 || off + len > b.length) {
    throw new RangeError(`XtsCipher: ${name} needs ${len} bytes at offset ${off}`);
  }
}

/**
 * The line path's argument check, inlinable: true when addr is an integer in [0, 2^53)
 * and both spans are inside their arrays. Anything else goes to the thorough check.
 */
export function lineOk(addr: number, src: Uint8Array, so: number, dst: Uint8Array, d: number): boolean {
  return addr >= 0 && addr < MAX_ADDR && Math.floor(addr) === addr
    && so >= 0 && so <= src.length - LINE_BYTES && Math.floor(so) === so
    && d >= 0 && d <= dst.length - LINE_BYTES && Math.floor(d) === d;
}

/**
 * Runs r0 .. r0+nr-1 of (starts, counts): every count a non-negative integer and every
 * line's address (the first and the last of a run) an integer in [0, 2^53). Returns
 * the lines in all.
 */
export function checkRuns(starts: Float64Array, counts: Int32Array, r0: number, nr: number): number {
  if (!(starts instanceof Float64Array) || !(counts instanceof Int32Array) || !Number.isInteger(r0) ||
    !Number.isInteger(nr) || r0 < 0 || nr < 0 || r0 + nr > starts.length || r0 + nr > counts.length) {
    throw new RangeError(`XtsCipher: ${nr} runs at ${r0}`);
  }
  let n = 0;
  for (let r = r0; r < r0 + nr; r++) {
    const a = starts[r], c = counts[r];
    if (c < 0) throw new RangeError(`XtsCipher: a run of ${c} lines`);
    if (c > 0) { checkAddr(a); checkAddr(a + (c - 1) * LINE_BYTES); }
    n += c;
  }
  return n;
}
