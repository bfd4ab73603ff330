/**
 * A persistent node:crypto AES-ECB context, used as a bulk block-cipher engine.
 *
 * ECB has no chaining, so one context created at key-programming time can be fed any
 * number of `update()` calls forever: each call is a batch of independent single-block
 * AES operations done natively (AES-NI where the host has it). Padding is off, so
 * `update()` returns exactly as many bytes as it was given; a Decipher does not hold the
 * last block back in that mode. That is checked on every call anyway: a short answer
 * would silently corrupt memory, so it throws instead.
 *
 * OpenSSL keeps its own copy of the key schedule inside the context and node offers no
 * way to wipe it; `drop()` releases the context so it can be collected.
 *
 * `update()` answers in a new Buffer each call, and its memory goes back to the C
 * allocator only when a garbage collection finds it dead: at the line cipher's rate that
 * is tens of megabytes between collections, which glibc returns to the kernel and then
 * faults in again, page by page (a 64 KiB call measured about 2x slower in a busy heap
 * than in a fresh one). `updateInto()` copies the answer out and frees it at once with
 * ArrayBuffer.prototype.transfer(0) (ECMAScript 2024 §25.1.6.7; V8 frees a detached
 * buffer's store when its last reference goes), so the next call reuses warm memory.
 * Node 20's V8 has transfer only behind --harmony-rab-gsab-transfer, which every way of
 * running the tree passes where node accepts it (Makefile NODE_V8, tools/shell,
 * tests/run.ts, .taprc); without it updateInto is update plus a copy.
 */
import { createCipheriv, createDecipheriv, type Cipher, type Decipher } from 'node:crypto';

type Transfer = (this: ArrayBuffer, newLength: number) => ArrayBuffer;
/** ArrayBuffer.prototype.transfer where the host has it, else null. */
const transfer = (ArrayBuffer.prototype as unknown as { transfer?: Transfer }).transfer ?? null;

/** Whether updateInto frees each answer at once (the host has ArrayBuffer.prototype.transfer). */
export const releasesOutput = typeof transfer === 'function';

export class EcbContext {
  private ctx: Cipher | Decipher | null;

  /** `key` is 16 or 32 bytes; node copies it, so the caller may zero its buffer after. */
  constructor(key: Uint8Array, decrypt: boolean) {
    const alg = key.length === 32 ? 'aes-256-ecb' : 'aes-128-ecb';
    this.ctx = decrypt ? createDecipheriv(alg, key, null) : createCipheriv(alg, key, null);
    this.ctx.setAutoPadding(false);
  }

  /** AES over every 16-byte block of `data` (length a multiple of 16). Returns a new Buffer. */
  update(data: Uint8Array): Buffer {
    const ctx = this.ctx;
    if (ctx === null) throw new Error('EcbContext: used after drop()');
    const out = ctx.update(data);
    if (out.length !== data.length) {
      throw new Error(`EcbContext: expected ${data.length} bytes back, got ${out.length}`);
    }
    return out;
  }

  /**
   * AES over every 16-byte block of `data` into dst[dstOff..]: update() and a copy, its
   * answer freed at once when the host can (see the header). dst may be any array.
   */
  updateInto(data: Uint8Array, dst: Uint8Array, dstOff: number): void {
    const out = this.update(data);
    dst.set(out, dstOff);
    // Only an answer that owns its whole ArrayBuffer (node's pooled small Buffers share one).
    const b = out.buffer;
    if (transfer !== null && out.byteOffset === 0 && b.byteLength === out.length && b instanceof ArrayBuffer) {
      transfer.call(b, 0);
    }
  }

  /** Forget the context (its key schedule cannot be zeroed from JS; let it be collected). */
  drop(): void {
    this.ctx = null;
  }
}
