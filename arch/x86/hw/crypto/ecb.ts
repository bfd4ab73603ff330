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
 */
import { createCipheriv, createDecipheriv, type Cipher, type Decipher } from 'node:crypto';

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

  /** Forget the context (its key schedule cannot be zeroed from JS; let it be collected). */
  drop(): void {
    this.ctx = null;
  }
}
