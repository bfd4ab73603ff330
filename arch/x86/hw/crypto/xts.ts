/**
 * AES-XTS for the MKTME engine: the data path every encrypted line goes through.
 *
 * A data unit is one 64-byte line; its tweak is the line's physical address (KeyID bits
 * cleared) as a 16-byte little-endian integer (see xts-ref.ts for XTS itself):
 *
 *   T = AES(key2, addr);  C_j = AES(key1, P_j ^ T*alpha^j) ^ T*alpha^j,  j = 0..3
 *
 * Two paths, chosen by measurement (bench/crypto.ts):
 * - Lines: pure JS, five single-block AES calls per line (aes-block.ts: small T-tables over
 *   noble's key schedules), state in locals, no allocation. A node:crypto call costs about
 *   1 us of fixed overhead, more than the whole line in JS, so it cannot serve single lines.
 * - Pages (64 lines): node:crypto AES-ECB contexts created once per key and reused
 *   (ecb.ts). One ECB call under key2 turns the 64 line addresses into the 64 line
 *   tweaks, JS multiplies each by alpha three times, XORs the page against the tweaks
 *   with Uint32 views, one ECB call under key1 runs the 256 blocks, and a second XOR
 *   finishes. Same result as 64 line calls.
 *
 * src and dst may be the same bytes (in-place): every block is read before it is written.
 * Key material lives only in the expanded schedules and the node contexts; destroy()
 * zeroes the former, drops the latter, and any later call throws.
 */
import { unsafe } from '@noble/ciphers/aes.js';
import { decryptBlock, encryptBlock, scheduleView } from './aes-block.js';
import { EcbContext } from './ecb.js';
import { checkAddr, checkXtsKeys } from './xts-ref.js';

export { xtsEncrypt, xtsDecrypt, addrTweak, mulAlpha } from './xts-ref.js';

export const LINE_BYTES = 64;
export const PAGE_BYTES = 4096;
const LINES_PER_PAGE = PAGE_BYTES / LINE_BYTES;
const TWO32 = 0x100000000;

/** Uint32 views over whole ArrayBuffers, made once per buffer. */
const views = new WeakMap<ArrayBufferLike, Uint32Array>();
function wordView(b: Uint8Array): Uint32Array {
  let v = views.get(b.buffer);
  if (v === undefined) {
    v = new Uint32Array(b.buffer, 0, b.buffer.byteLength >>> 2);
    views.set(b.buffer, v);
  }
  return v;
}

function checkSpan(name: string, b: Uint8Array, off: number, len: number): void {
  if (!(b instanceof Uint8Array) || !Number.isInteger(off) || off < 0 || off + len > b.length) {
    throw new RangeError(`XtsCipher: ${name} needs ${len} bytes at offset ${off}`);
  }
}

/** Scratch for one block's AES output (the line path allocates nothing). */
const blk = new Int32Array(4);

/**
 * One line: T = AES(key2, addr), then four blocks through `aes` (encryptBlock with the
 * key1 schedule, or decryptBlock with the key1 decryption schedule), T *= alpha between.
 */
function line(
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

export class XtsCipher {
  private xk1: Int32Array;
  private xk1d: Int32Array;
  private xk2: Int32Array;
  private ecb1: EcbContext | null;
  private ecb1d: EcbContext | null;
  private ecb2: EcbContext | null;
  /** Page path scratch: tweak inputs (64 blocks), tweaks (256 blocks), XORed input. */
  private readonly tweakIn = Buffer.alloc(LINES_PER_PAGE * 16);
  private readonly tweakIn32 = new Uint32Array(this.tweakIn.buffer, this.tweakIn.byteOffset, LINES_PER_PAGE * 4);
  private readonly tweaks = new Uint32Array(PAGE_BYTES / 4);
  private readonly scratch = Buffer.alloc(PAGE_BYTES);
  private readonly scratch32 = new Uint32Array(this.scratch.buffer, this.scratch.byteOffset, PAGE_BYTES / 4);
  private dead = false;

  constructor(key1: Uint8Array, key2: Uint8Array) {
    checkXtsKeys(key1, key2);
    const k1 = key1.slice();
    const k2 = key2.slice();
    try {
      this.xk1 = scheduleView(unsafe.expandKeyLE(k1));
      this.xk1d = scheduleView(unsafe.expandKeyDecLE(k1));
      this.xk2 = scheduleView(unsafe.expandKeyLE(k2));
      this.ecb1 = new EcbContext(k1, false);
      this.ecb1d = new EcbContext(k1, true);
      this.ecb2 = new EcbContext(k2, false);
    } finally {
      k1.fill(0);
      k2.fill(0);
    }
    if ((this.tweakIn.byteOffset | this.scratch.byteOffset) & 3) {
      throw new Error('XtsCipher: unaligned scratch'); // Buffer.alloc never does this
    }
  }

  encryptLine(addr: number, src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number): void {
    if (this.dead) this.fail();
    checkAddr(addr);
    checkSpan('src', src, srcOff, LINE_BYTES);
    checkSpan('dst', dst, dstOff, LINE_BYTES);
    line(encryptBlock, this.xk1, this.xk2, addr, src, srcOff, dst, dstOff);
  }

  decryptLine(addr: number, src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number): void {
    if (this.dead) this.fail();
    checkAddr(addr);
    checkSpan('src', src, srcOff, LINE_BYTES);
    checkSpan('dst', dst, dstOff, LINE_BYTES);
    line(decryptBlock, this.xk1d, this.xk2, addr, src, srcOff, dst, dstOff);
  }

  encryptPage(addr: number, src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number): void {
    this.page(true, addr, src, srcOff, dst, dstOff);
  }

  decryptPage(addr: number, src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number): void {
    this.page(false, addr, src, srcOff, dst, dstOff);
  }

  /** Zero the expanded keys and scratch, drop the node contexts; later calls throw. */
  destroy(): void {
    this.dead = true;
    this.xk1.fill(0);
    this.xk1d.fill(0);
    this.xk2.fill(0);
    this.ecb1?.drop();
    this.ecb1d?.drop();
    this.ecb2?.drop();
    this.ecb1 = this.ecb1d = this.ecb2 = null;
    this.tweaks.fill(0);
    this.scratch.fill(0);
    this.tweakIn.fill(0);
  }

  /** True once destroy() has run. */
  get destroyed(): boolean { return this.dead; }

  private fail(): never {
    throw new Error('XtsCipher: used after destroy()');
  }

  private page(encrypting: boolean, addr: number, src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number): void {
    if (this.dead) this.fail();
    checkAddr(addr);
    if (addr % PAGE_BYTES !== 0) throw new RangeError(`XtsCipher: page address ${addr} is not 4 KiB aligned`);
    checkSpan('src', src, srcOff, PAGE_BYTES);
    checkSpan('dst', dst, dstOff, PAGE_BYTES);
    const tw = this.pageTweaks(addr);
    const x = this.scratch32;
    const sb = src.byteOffset + srcOff;
    if ((sb & 3) === 0) {
      const s = wordView(src);
      for (let k = 0, i = sb >>> 2; k < PAGE_BYTES / 4; k++, i++) x[k] = s[i] ^ tw[k];
    } else {
      for (let k = 0, o = srcOff; k < PAGE_BYTES / 4; k++, o += 4) {
        x[k] = (src[o] | (src[o + 1] << 8) | (src[o + 2] << 16) | (src[o + 3] << 24)) ^ tw[k];
      }
    }
    const out = (encrypting ? this.ecb1! : this.ecb1d!).update(this.scratch);
    const y = (out.byteOffset & 3) === 0
      ? new Uint32Array(out.buffer, out.byteOffset, PAGE_BYTES / 4)
      : new Uint32Array(Uint8Array.prototype.slice.call(out).buffer);
    const db = dst.byteOffset + dstOff;
    if ((db & 3) === 0) {
      const d = wordView(dst);
      for (let k = 0, i = db >>> 2; k < PAGE_BYTES / 4; k++, i++) d[i] = y[k] ^ tw[k];
    } else {
      for (let k = 0, o = dstOff; k < PAGE_BYTES / 4; k++, o += 4) {
        const w = y[k] ^ tw[k];
        dst[o] = w; dst[o + 1] = w >>> 8; dst[o + 2] = w >>> 16; dst[o + 3] = w >>> 24;
      }
    }
  }

  /** The 256 block tweaks of a page: line i's T = AES(key2, addr + 64 i), times alpha^j. */
  private pageTweaks(addr: number): Uint32Array {
    const tin = this.tweakIn32;
    for (let i = 0; i < LINES_PER_PAGE; i++) {
      const a = addr + i * LINE_BYTES;
      tin[4 * i] = a >>> 0;
      tin[4 * i + 1] = (a / TWO32) >>> 0;
    }
    const e = this.ecb2!.update(this.tweakIn);
    const t = (e.byteOffset & 3) === 0
      ? new Uint32Array(e.buffer, e.byteOffset, LINES_PER_PAGE * 4)
      : new Uint32Array(Uint8Array.prototype.slice.call(e).buffer);
    const tw = this.tweaks;
    for (let i = 0, k = 0; i < LINES_PER_PAGE; i++) {
      let t0 = t[4 * i], t1 = t[4 * i + 1], t2 = t[4 * i + 2], t3 = t[4 * i + 3];
      for (let j = 0; j < 4; j++, k += 4) {
        tw[k] = t0; tw[k + 1] = t1; tw[k + 2] = t2; tw[k + 3] = t3;
        const c = t3 >>> 31;
        t3 = (t3 << 1) | (t2 >>> 31); t2 = (t2 << 1) | (t1 >>> 31); t1 = (t1 << 1) | (t0 >>> 31);
        t0 = (t0 << 1) ^ (c * 0x87);
      }
    }
    e.fill(0);
    return tw;
  }
}
