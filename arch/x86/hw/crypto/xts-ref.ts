/**
 * Reference XTS-AES (IEEE Std 1619-2007, NIST SP 800-38E) on @noble/ciphers' AES.
 *
 *   T_0     = AES-enc(key2, i)             i = the data-unit number, 16 bytes little-endian
 *   T_j     = T_{j-1} * alpha              in GF(2^128) mod x^128 + x^7 + x^2 + x + 1 (§5.2)
 *   C_j     = AES-enc(key1, P_j ^ T_j) ^ T_j
 *
 * A data unit whose length is not a multiple of 16 ends with ciphertext stealing (§5.3.2):
 * the last full block is encrypted, its head becomes the short final block, and the short
 * plaintext padded with that block's tail is encrypted under the next tweak into the
 * second-to-last position. Decryption mirrors it (§5.4.2), swapping the last two tweaks.
 *
 * This file is the slow, readable reference the fast paths in xts.ts are tested against.
 * Like hardware (and unlike OpenSSL) it does no weak-key check: key1 == key2 is accepted.
 * State is kept as four little-endian 32-bit words (s0 = bytes 0..3), the layout noble's
 * word-level `unsafe.encrypt/decrypt` use, so byte 0 of a block is the low byte of s0.
 */
import { unsafe } from '@noble/ciphers/aes.js';

const BLOCK = 16;

/** Throws RangeError unless key1/key2 are an AES-XTS-128 (16+16) or -256 (32+32) pair. */
export function checkXtsKeys(key1: Uint8Array, key2: Uint8Array): void {
  if (!(key1 instanceof Uint8Array) || !(key2 instanceof Uint8Array)) {
    throw new TypeError('xts: keys must be Uint8Array');
  }
  if ((key1.length !== 16 && key1.length !== 32) || key2.length !== key1.length) {
    throw new RangeError(`xts: expected 16+16 or 32+32 key bytes, got ${key1.length}+${key2.length}`);
  }
}

/** The little-endian 32-bit word of `b` at byte offset `o` (as an unsigned number). */
export function readWord(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}

function writeWord(b: Uint8Array, o: number, w: number): void {
  b[o] = w; b[o + 1] = w >>> 8; b[o + 2] = w >>> 16; b[o + 3] = w >>> 24;
}

/**
 * t * alpha on a tweak held as four little-endian words, in place (IEEE 1619 §5.2:
 * shift the 128-bit little-endian integer left by one; a carry out of bit 127 folds
 * back as 0x87 into byte 0).
 */
export function mulAlpha(t: Uint32Array | number[]): void {
  const carry = t[3] >>> 31;
  t[3] = ((t[3] << 1) | (t[2] >>> 31)) >>> 0;
  t[2] = ((t[2] << 1) | (t[1] >>> 31)) >>> 0;
  t[1] = ((t[1] << 1) | (t[0] >>> 31)) >>> 0;
  t[0] = ((t[0] << 1) ^ (carry * 0x87)) >>> 0;
}

/** One block: out = AES(xk, in ^ t) ^ t, reading and writing bytes at the given offsets. */
function xexBlock(
  dir: typeof unsafe.encrypt, xk: Uint32Array, t: Uint32Array,
  src: Uint8Array, so: number, dst: Uint8Array, d: number,
): void {
  const r = dir(xk, readWord(src, so) ^ t[0], readWord(src, so + 4) ^ t[1],
    readWord(src, so + 8) ^ t[2], readWord(src, so + 12) ^ t[3]);
  writeWord(dst, d, r.s0 ^ t[0]);
  writeWord(dst, d + 4, r.s1 ^ t[1]);
  writeWord(dst, d + 8, r.s2 ^ t[2]);
  writeWord(dst, d + 12, r.s3 ^ t[3]);
}

function xts(encrypting: boolean, key1: Uint8Array, key2: Uint8Array, tweak: Uint8Array, data: Uint8Array): Uint8Array {
  checkXtsKeys(key1, key2);
  if (!(tweak instanceof Uint8Array) || tweak.length !== BLOCK) {
    throw new RangeError(`xts: expected a 16-byte tweak, got ${tweak?.length}`);
  }
  if (!(data instanceof Uint8Array) || data.length < BLOCK) {
    throw new RangeError(`xts: data unit must be at least 16 bytes, got ${data?.length}`);
  }
  // Copies: expandKeyLE wants aligned input; ours are zeroed below.
  const k1 = new Uint8Array(key1);
  const k2 = new Uint8Array(key2);
  const xk1 = encrypting ? unsafe.expandKeyLE(k1) : unsafe.expandKeyDecLE(k1);
  const xk2 = unsafe.expandKeyLE(k2);
  const dir = encrypting ? unsafe.encrypt : unsafe.decrypt;
  const t = new Uint32Array(4);
  const e = unsafe.encrypt(xk2, readWord(tweak, 0), readWord(tweak, 4), readWord(tweak, 8), readWord(tweak, 12));
  t[0] = e.s0; t[1] = e.s1; t[2] = e.s2; t[3] = e.s3;

  const out = new Uint8Array(data.length);
  const tail = data.length % BLOCK;
  const full = (data.length - tail) / BLOCK;
  // With stealing, the last full block is handled together with the tail below.
  const plain = tail === 0 ? full : full - 1;
  for (let j = 0; j < plain; j++) {
    xexBlock(dir, xk1, t, data, j * BLOCK, out, j * BLOCK);
    mulAlpha(t);
  }
  if (tail !== 0) {
    const m = (full - 1) * BLOCK; // the last full block
    const cc = new Uint8Array(BLOCK);
    const pp = new Uint8Array(BLOCK);
    // Encryption uses T_{m-1} then T_m; decryption T_m then T_{m-1} (§5.4.2).
    const tPrev = t.slice();
    const tNext = t.slice();
    mulAlpha(tNext);
    xexBlock(dir, xk1, encrypting ? tPrev : tNext, data, m, cc, 0);
    pp.set(data.subarray(m + BLOCK), 0); // the short tail ...
    pp.set(cc.subarray(tail), tail); // ... padded with the stolen bytes
    xexBlock(dir, xk1, encrypting ? tNext : tPrev, pp, 0, out, m);
    out.set(cc.subarray(0, tail), m + BLOCK);
    cc.fill(0); pp.fill(0); tPrev.fill(0); tNext.fill(0);
  }
  xk1.fill(0); xk2.fill(0); k1.fill(0); k2.fill(0); t.fill(0);
  return out;
}

/** XTS-AES encryption of one data unit (>= 16 bytes) under tweak (16 bytes). */
export function xtsEncrypt(key1: Uint8Array, key2: Uint8Array, tweak16: Uint8Array, data: Uint8Array): Uint8Array {
  return xts(true, key1, key2, tweak16, data);
}

/** XTS-AES decryption of one data unit (>= 16 bytes) under tweak (16 bytes). */
export function xtsDecrypt(key1: Uint8Array, key2: Uint8Array, tweak16: Uint8Array, data: Uint8Array): Uint8Array {
  return xts(false, key1, key2, tweak16, data);
}

/** The tweak for a physical byte address: the address as a 16-byte little-endian integer. */
export function addrTweak(addr: number): Uint8Array {
  checkAddr(addr);
  const t = new Uint8Array(BLOCK);
  writeWord(t, 0, addr >>> 0);
  writeWord(t, 4, Math.floor(addr / 0x100000000));
  return t;
}

/** Throws RangeError unless addr is an integer in [0, 2^53). */
export function checkAddr(addr: number): void {
  if (!Number.isSafeInteger(addr) || addr < 0) {
    throw new RangeError(`xts: address must be an integer in [0, 2^53), got ${addr}`);
  }
}
