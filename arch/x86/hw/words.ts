/**
 * 64-byte line copies as 16 word moves, the machine's commonest data movement (cache <->
 * user buffer, cache -> write-combining queue). `Uint8Array.set(src.subarray(...))`
 * allocates a view per line; this allocates nothing once an array's word view is known.
 */

/**
 * The Int32 view of all of `u`'s buffer, remembered for the last few buffers. Keyed by
 * the ArrayBuffer, so the subarrays of one buffer (a process's 4 KiB pieces of one big
 * array) share one view.
 */
export class WordViews {
  private readonly bufs: (ArrayBufferLike | null)[] = [null, null, null, null];
  private readonly views: Int32Array[] = [];
  private next = 0;

  /** A word view of u's whole buffer; index it with (u.byteOffset + off) >> 2 when aligned. */
  of(u: Uint8Array): Int32Array {
    const b = u.buffer;
    const bufs = this.bufs;
    for (let i = 0; i < 4; i++) if (bufs[i] === b) return this.views[i];
    const i = this.next;
    this.next = (i + 1) & 3;
    bufs[i] = b;
    return (this.views[i] = new Int32Array(b, 0, b.byteLength >>> 2));
  }
}

/** Copy 16 words: dst[d..d+16) = src[s..s+16). */
export function copyLine32(src: Int32Array, s: number, dst: Int32Array, d: number): void {
  dst[d] = src[s]; dst[d + 1] = src[s + 1]; dst[d + 2] = src[s + 2]; dst[d + 3] = src[s + 3];
  dst[d + 4] = src[s + 4]; dst[d + 5] = src[s + 5]; dst[d + 6] = src[s + 6]; dst[d + 7] = src[s + 7];
  dst[d + 8] = src[s + 8]; dst[d + 9] = src[s + 9]; dst[d + 10] = src[s + 10]; dst[d + 11] = src[s + 11];
  dst[d + 12] = src[s + 12]; dst[d + 13] = src[s + 13]; dst[d + 14] = src[s + 14]; dst[d + 15] = src[s + 15];
}
