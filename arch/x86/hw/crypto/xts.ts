/**
 * AES-XTS for the MKTME engine: the data path every encrypted line goes through.
 *
 * A data unit is one 64-byte line; its tweak is the line's physical address (KeyID bits
 * cleared) as a 16-byte little-endian integer (xts-ref.ts has XTS itself):
 *
 *   T = AES(key2, addr);  C_j = AES(key1, P_j ^ T*alpha^j) ^ T*alpha^j,  j = 0..3
 *
 * Paths, chosen by measurement (bench/crypto.ts; figures in xts-wasm.ts's header):
 * - Lines: a WebAssembly routine (xts-wasm.ts) does the five AES blocks of a line with
 *   T-tables; JS copies the 64 bytes in and out (16 words through cached Int32 views of
 *   the caller's buffers when aligned). node:crypto cannot serve single lines: one call
 *   costs about 1 us of fixed overhead, twice a whole line in the routine.
 * - Runs of lines at consecutive addresses (encryptRuns/decryptRuns: the write-combining
 *   queue's drain and the stream prefetcher, mcbuffers.ts; up to 1024 lines per native
 *   call, each line its own data unit): node:crypto AES-ECB contexts made once per key and
 *   reused (ecb.ts). The routine writes each run's line addresses into its TIN, one ECB
 *   call under key2 makes the line tweaks, the routine multiplies them by alpha and XORs
 *   them into the lines, one ECB call under key1 runs all their blocks, and the routine
 *   XORs the tweaks out again. Same result as one line call per line.
 * - Without WebAssembly (node --jitless), or on a big-endian host, lines run in plain JS
 *   on the same tables (xts-js.ts, aes-block.ts) and runs as lines: about half the line
 *   speed and a tenth of the run speed. `{ wasm: false }` forces this, for tests.
 * Key schedules come from noble (expandKeyLE / expandKeyDecLE); every path is tested
 * against the noble-based reference.
 *
 * src and dst may be the same bytes (in-place). (The routine copies the whole input first,
 * so any overlap works there; the JS path reads each block before writing it, so only
 * exact in-place is safe in general: that is the contract.)
 * Key material lives only in the schedules (in the routine's memory when there is one)
 * and the node contexts; destroy() zeroes the former, drops the latter, and any later
 * call throws.
 */
import { unsafe } from '@noble/ciphers/aes.js';
import { decryptBlock, encryptBlock, scheduleView } from './aes-block.js';
import { jsLine } from './xts-js.js';
import { EcbContext } from './ecb.js';
import { checkAddr, checkXtsKeys } from './xts-ref.js';
import { checkRuns, checkSpan, lineOk } from './xts-args.js';
import { copyLine32 } from '../words.js';
import { BATCH_LINES, MEM, newXtsModule, type XtsWasmExports } from './xts-wasm.js';
export { xtsEncrypt, xtsDecrypt, addrTweak, mulAlpha } from './xts-ref.js';

export const LINE_BYTES = 64;
const TWO32 = 0x100000000;
const LINE32 = MEM.LINE / 4;
const BATCH = BATCH_LINES; // lines per native call: what the routine's batch areas hold
const HOST_LE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/**
 * Runs shorter than this go through the routine line by line: about 0.36 us a line here,
 * against 2-3 us for a batch of up to a few lines (two node:crypto calls) and 35 ns a
 * line more (measured with one-off loops; the queue's drains meet such runs where a
 * page-table line falls between two pages' write-backs).
 */
const SMALL_RUN = 6;
/** How many caller arrays keep a cached word view (see XtsCipher.words). */
const VIEWS = 4;

export interface XtsOptions {
  /** Use the WebAssembly routine when available (default true). */
  wasm?: boolean;
}

export class XtsCipher {
  /** Schedules: views into the routine's memory when there is a routine. */
  private readonly xk1: Int32Array;
  private readonly xk1d: Int32Array;
  private readonly xk2: Int32Array;
  private wasm: XtsWasmExports | null;
  private readonly mem: Uint8Array;
  private readonly mem32: Int32Array;
  /** Word views of up to VIEWS byte arrays seen as src/dst (words()). */
  private readonly arrs: (Uint8Array | null)[] = new Array(VIEWS).fill(null);
  private readonly views: Int32Array[] = new Array(VIEWS).fill(new Int32Array(0));
  private readonly bases: number[] = new Array(VIEWS).fill(0);
  private nextView = 0;
  /** Byte offset in its ArrayBuffer of the array words() was last called with. */
  private base = 0;
  /** Views of the routine's batch areas: the tweak inputs, and the ECB input, then its result. */
  private readonly tinView: Uint8Array;
  private readonly paView: Uint8Array;
  private ecb1: EcbContext | null = null;
  private ecb1d: EcbContext | null = null;
  private ecb2: EcbContext | null = null;
  private dead = false;

  constructor(key1: Uint8Array, key2: Uint8Array, options: XtsOptions = {}) {
    checkXtsKeys(key1, key2);
    const k1 = new Uint8Array(key1);
    const k2 = new Uint8Array(key2);
    const e1 = unsafe.expandKeyLE(k1);
    const d1 = unsafe.expandKeyDecLE(k1);
    const e2 = unsafe.expandKeyLE(k2);
    try {
      // The routine's memory is little-endian; schedules and lines go in through host-order
      // Int32 views, so a big-endian host keeps to the JS path.
      this.wasm = options.wasm === false || !HOST_LE ? null : newXtsModule(e1.length / 4 - 1);
      if (this.wasm !== null) {
        const buf = this.wasm.memory.buffer;
        this.mem = new Uint8Array(buf);
        this.mem32 = new Int32Array(buf);
        this.tinView = this.mem.subarray(MEM.TIN, MEM.TIN + 16 * BATCH);
        this.paView = this.mem.subarray(MEM.PA, MEM.PA + BATCH * LINE_BYTES);
        this.xk1 = new Int32Array(buf, MEM.XK1, e1.length);
        this.xk1d = new Int32Array(buf, MEM.XK1D, d1.length);
        this.xk2 = new Int32Array(buf, MEM.XK2, e2.length);
        this.xk1.set(scheduleView(e1));
        this.xk1d.set(scheduleView(d1));
        this.xk2.set(scheduleView(e2));
        this.ecb1 = new EcbContext(k1, false);
        this.ecb1d = new EcbContext(k1, true);
        this.ecb2 = new EcbContext(k2, false);
      } else {
        this.mem = this.tinView = new Uint8Array(0);
        this.paView = new Uint8Array(BATCH * LINE_BYTES); // batchArea() without a routine
        this.mem32 = new Int32Array(0);
        this.xk1 = scheduleView(e1.slice());
        this.xk1d = scheduleView(d1.slice());
        this.xk2 = scheduleView(e2.slice());
      }
    } finally {
      k1.fill(0); k2.fill(0); e1.fill(0); d1.fill(0); e2.fill(0);
    }
  }

  encryptLine(addr: number, src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number): void {
    this.line(true, addr, src, srcOff, dst, dstOff);
  }

  decryptLine(addr: number, src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number): void {
    this.line(false, addr, src, srcOff, dst, dstOff);
  }

  /**
   * Runs of lines at consecutive addresses: run r (r0 <= r < r0 + nr) is counts[r] lines
   * from address starts[r], the runs' lines one after another at src[srcOff..], their
   * results at dst[dstOff..]. The same bytes as one encryptLine per line; the tweak inputs
   * are made a run at a time (the write-combining queue's drain).
   */
  encryptRuns(starts: Float64Array, counts: Int32Array, r0: number, nr: number, src: Uint8Array, srcOff: number,
    dst: Uint8Array, dstOff: number): void {
    this.runs(true, starts, counts, r0, nr, src, srcOff, dst, dstOff);
  }

  /** The inverse of encryptRuns (the stream prefetcher's fills). */
  decryptRuns(starts: Float64Array, counts: Int32Array, r0: number, nr: number, src: Uint8Array, srcOff: number,
    dst: Uint8Array, dstOff: number): void {
    this.runs(false, starts, counts, r0, nr, src, srcOff, dst, dstOff);
  }

  /** Zero the key schedules (and all of the routine's memory), drop the node contexts; later calls throw. */
  destroy(): void {
    this.dead = true;
    this.xk1.fill(0);
    this.xk1d.fill(0);
    this.xk2.fill(0);
    this.mem.fill(0);
    this.paView.fill(0);
    this.wasm = null;
    this.arrs.fill(null);
    this.views.fill(new Int32Array(0));
    this.ecb1?.drop();
    this.ecb1d?.drop();
    this.ecb2?.drop();
    this.ecb1 = this.ecb1d = this.ecb2 = null;
  }

  /** True once destroy() has run. */
  get destroyed(): boolean { return this.dead; }

  /** Whether this cipher runs on the WebAssembly routine. */
  get usesWasm(): boolean { return this.wasm !== null; }

  /** One line: the routine's, or the JS one without a routine. Throws on bad arguments or after destroy(). */
  private line(encrypting: boolean, addr: number, src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number): void {
    const k = this.wasm;
    if (k === null || !lineOk(addr, src, srcOff, dst, dstOff)) {
      this.checkLine(addr, src, srcOff, dst, dstOff); // throws on bad arguments or after destroy()
      if (k === null) {
        if (encrypting) jsLine(encryptBlock, this.xk1, this.xk2, addr, src, srcOff, dst, dstOff);
        else jsLine(decryptBlock, this.xk1d, this.xk2, addr, src, srcOff, dst, dstOff);
        return;
      }
    }
    this.lineIn(src, srcOff);
    if (encrypting) k.encLine(addr | 0, (addr / TWO32) | 0);
    else k.decLine(addr | 0, (addr / TWO32) | 0);
    this.lineOut(dst, dstOff);
  }

  private runs(encrypting: boolean, starts: Float64Array, counts: Int32Array, r0: number, nr: number,
    src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number): void {
    if (this.dead) this.fail();
    const n = checkRuns(starts, counts, r0, nr); // every run, before any result is written
    checkSpan('src', src, srcOff, n * LINE_BYTES);
    checkSpan('dst', dst, dstOff, n * LINE_BYTES);
    const k = this.wasm;
    if (k === null || n < SMALL_RUN) { // a few lines: line by line beats node:crypto's fixed cost per call
      for (let r = r0, o = 0; r < r0 + nr; r++) {
        for (let i = 0; i < counts[r]; i++, o += LINE_BYTES) this.line(encrypting, starts[r] + i * LINE_BYTES, src, srcOff + o, dst, dstOff + o);
      }
      return;
    }
    // Batches of up to BATCH lines, a run split where a batch ends.
    let r = r0, used = 0, done = 0, at = 0;
    while (done < n) {
      const c = counts[r] - used;
      const m = Math.min(c, BATCH - at);
      if (m > 0) {
        const a = starts[r] + used * LINE_BYTES;
        k.tweakRun(at, m, a | 0, (a / TWO32) | 0);
        at += m; used += m;
      }
      if (used === counts[r]) { r++; used = 0; }
      if (at === BATCH || done + at === n) {
        const o = done * LINE_BYTES;
        this.batch(k, encrypting, at, src, srcOff + o, dst, dstOff + o);
        done += at; at = 0;
      }
    }
  }

  /**
   * XTS of `b` lines (1..BATCH) whose tweak inputs are in TIN: one ECB call under key2 for
   * the tweaks, the routine spreads them (T * alpha^j) and XORs them in, one ECB call under
   * key1 for all 4b blocks, the routine XORs them out.
   */
  private batch(k: XtsWasmExports, encrypting: boolean, b: number, src: Uint8Array, srcOff: number,
    dst: Uint8Array, dstOff: number): void {
    const m = this.mem;
    const bytes = b * LINE_BYTES;
    const whole = b === BATCH;
    this.ecb2!.updateInto(whole ? this.tinView : this.tinView.subarray(0, 16 * b), m, MEM.TOUT);
    if (src !== this.paView || srcOff !== 0) m.set(src.subarray(srcOff, srcOff + bytes), MEM.PA);
    k.pageIn(b);
    const pa = whole ? this.paView : this.paView.subarray(0, bytes);
    (encrypting ? this.ecb1! : this.ecb1d!).updateInto(pa, m, MEM.PA); // node's answer is a copy: PA may take it
    k.pageOut(b);
    if (dst !== this.paView || dstOff !== 0) dst.set(pa, dstOff);
  }

  /**
   * Room for BATCH lines: pass it as src and dst at offset 0 of a call of up to BATCH
   * lines and they are not copied in or out (it is the routine's batch area). Its
   * contents last until the next call; destroy() zeroes it.
   */
  batchArea(): Uint8Array {
    if (this.dead) this.fail();
    return this.paView;
  }

  /**
   * A word view of all of u's ArrayBuffer, and u's byte offset in it (in this.base).
   * Reading .buffer / .byteOffset costs about as much as copying a line, so the answers
   * for the last few arrays are kept, keyed by identity. The engine's lines move between
   * the memory system's scratch line and each package's cache array: a handful.
   */
  private words(u: Uint8Array): Int32Array {
    const arrs = this.arrs;
    for (let i = 0; i < VIEWS; i++) {
      if (arrs[i] === u) { this.base = this.bases[i]; return this.views[i]; }
    }
    if (!(u instanceof Uint8Array)) throw new TypeError('XtsCipher: expected a Uint8Array');
    const i = this.nextView;
    this.nextView = (i + 1) % VIEWS; // round-robin replacement
    arrs[i] = u;
    const v = new Int32Array(u.buffer, 0, Math.floor(u.buffer.byteLength / 4));
    this.views[i] = v;
    this.base = this.bases[i] = u.byteOffset;
    return v;
  }

  /** Copy a line into the routine's LINE: 16 words when 4-byte aligned (copyLine32, unrolled), else bytes. */
  private lineIn(src: Uint8Array, off: number): void {
    const v = this.words(src);
    const at = this.base + off;
    if ((at & 3) === 0 && at < TWO32) copyLine32(v, at >>> 2, this.mem32, LINE32);
    else {
      const m = this.mem;
      for (let i = 0; i < LINE_BYTES; i++) m[MEM.LINE + i] = src[off + i];
    }
  }

  /** Copy the routine's LINE out to dst. */
  private lineOut(dst: Uint8Array, off: number): void {
    const v = this.words(dst);
    const at = this.base + off;
    if ((at & 3) === 0 && at < TWO32) copyLine32(this.mem32, LINE32, v, at >>> 2);
    else {
      const m = this.mem;
      for (let i = 0; i < LINE_BYTES; i++) dst[off + i] = m[MEM.LINE + i];
    }
  }

  private fail(): never {
    throw new Error('XtsCipher: used after destroy()');
  }

  private checkLine(addr: number, src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number): void {
    if (this.dead) this.fail();
    checkAddr(addr);
    checkSpan('src', src, srcOff, LINE_BYTES);
    checkSpan('dst', dst, dstOff, LINE_BYTES);
  }
}
