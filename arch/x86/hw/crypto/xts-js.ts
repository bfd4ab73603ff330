/**
 * The line cipher in plain JavaScript, for hosts without WebAssembly (node --jitless) or
 * big-endian ones, and for tests (`{ wasm: false }`): one 64-byte line, one data unit,
 * on aes-block.ts's T-tables. xts.ts says when it runs.
 */
import { encryptBlock } from './aes-block.js';

const LINE_BYTES = 64;
const TWO32 = 0x100000000;

/** Scratch for one block's AES output (the JS line path allocates nothing). */
const blk = new Int32Array(4);

/**
 * The JS line: T = AES(key2, addr), then four blocks through `aes` (encryptBlock with the
 * key1 schedule, or decryptBlock with the key1 decryption schedule), T *= alpha between.
 */
export function jsLine(
  aes: typeof encryptBlock, xk1: Int32Array, xk2: Int32Array, addr: number,
  src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number,
): void {
  encryptBlock(xk2, addr | 0, (addr / TWO32) | 0, 0, 0, blk);
  let t0 = blk[0], t1 = blk[1], t2 = blk[2], t3 = blk[3];
  for (let j = 0; j < LINE_BYTES; j += 16) {
    let o = srcOff + j;
    aes(xk1,
      (src[o] | (src[o + 1] << 8) | (src[o + 2] << 16) | (src[o + 3] << 24)) ^ t0,
      (src[o + 4] | (src[o + 5] << 8) | (src[o + 6] << 16) | (src[o + 7] << 24)) ^ t1,
      (src[o + 8] | (src[o + 9] << 8) | (src[o + 10] << 16) | (src[o + 11] << 24)) ^ t2,
      (src[o + 12] | (src[o + 13] << 8) | (src[o + 14] << 16) | (src[o + 15] << 24)) ^ t3, blk);
    o = dstOff + j;
    let w = blk[0] ^ t0; dst[o] = w; dst[o + 1] = w >>> 8; dst[o + 2] = w >>> 16; dst[o + 3] = w >>> 24;
    w = blk[1] ^ t1; dst[o + 4] = w; dst[o + 5] = w >>> 8; dst[o + 6] = w >>> 16; dst[o + 7] = w >>> 24;
    w = blk[2] ^ t2; dst[o + 8] = w; dst[o + 9] = w >>> 8; dst[o + 10] = w >>> 16; dst[o + 11] = w >>> 24;
    w = blk[3] ^ t3; dst[o + 12] = w; dst[o + 13] = w >>> 8; dst[o + 14] = w >>> 16; dst[o + 15] = w >>> 24;
    // T *= alpha (IEEE 1619 §5.2) on the little-endian words.
    const c = t3 >>> 31;
    t3 = (t3 << 1) | (t2 >>> 31); t2 = (t2 << 1) | (t1 >>> 31); t1 = (t1 << 1) | (t0 >>> 31);
    t0 = (t0 << 1) ^ (c * 0x87);
  }
}
