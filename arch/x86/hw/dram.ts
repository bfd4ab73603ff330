/**
 * Sparse backing store for DRAM and NVRAM: the bytes the DIMMs hold, which after TME
 * activation are ciphertext. Storage is allocated a 4 KiB frame at a time on first
 * write, so a 16 GiB machine costs nothing until it is touched. Untouched memory reads
 * as zeros (a real DIMM holds noise; zeros keep runs reproducible).
 *
 * An NVRAM store may be backed by a host file, so its contents survive the process:
 * frames are read from the file on first touch and every write goes through to it.
 */
import * as fs from 'node:fs';
import { copyLine32 } from './words.js';

const FRAME = 4096;

/** Frames per directory leaf: a two-level table, index = leaf * DIR + slot. */
const DIR = 4096;

export class SparseMemory {
  /**
   * The allocated frames, by frame index, in a two-level directory (a Map lookup costs
   * about as much as copying the line it finds, and write-backs in eviction order hit a
   * different frame nearly every line). Leaves are made on first use: 32 KiB of host
   * memory per 16 MiB of device touched.
   */
  private readonly dir: ((Uint8Array | undefined)[] | undefined)[] = [];
  /** Each frame's Int32 view, made with it (writeLine32: 16 word stores, no runtime call). */
  private readonly dir32: ((Int32Array | undefined)[] | undefined)[] = [];
  private count = 0;
  private fd: number | null = null;
  /** The frame last looked up (lines of one page come in runs). */
  private lastIndex = -1;
  private lastFrame: Uint8Array | undefined = undefined;

  /** @param size bytes of the device; @param file host file for persistence, or null */
  constructor(readonly size: number, file: string | null = null) {
    if (file !== null) {
      this.fd = fs.openSync(file, fs.existsSync(file) ? 'r+' : 'w+');
      if (fs.fstatSync(this.fd).size < size) fs.ftruncateSync(this.fd, size);
    }
  }

  /** Whether frames come from a host file (read on first touch, even by a read). */
  get fileBacked(): boolean { return this.fd !== null; }

  /** Frames currently allocated (host memory in use is this times 4 KiB). */
  get framesInUse(): number { return this.count; }

  private frame(index: number, create: boolean): Uint8Array | undefined {
    if (index === this.lastIndex) return this.lastFrame;
    const hi = Math.floor(index / DIR);
    const lo = index - hi * DIR;
    let leaf = this.dir[hi];
    let f = leaf?.[lo];
    if (f === undefined && (create || this.fd !== null)) {
      f = new Uint8Array(FRAME);
      if (this.fd !== null) fs.readSync(this.fd, f, 0, FRAME, index * FRAME);
      if (leaf === undefined) {
        leaf = this.dir[hi] = new Array<Uint8Array | undefined>(DIR).fill(undefined);
        this.dir32[hi] = new Array<Int32Array | undefined>(DIR).fill(undefined);
      }
      leaf[lo] = f;
      this.dir32[hi]![lo] = new Int32Array(f.buffer);
      this.count++;
    }
    if (f !== undefined) { this.lastIndex = index; this.lastFrame = f; }
    return f;
  }

  /**
   * Store the 64-byte line src32[w..w+16) at line-aligned device offset `off`: the memory
   * controller's drain, one line per call in arrival order. Not for file-backed stores
   * (their writes go through to the file: use write()).
   */
  writeLine32(off: number, src32: Int32Array, w: number): void {
    const index = Math.floor(off / FRAME);
    const hi = Math.floor(index / DIR);
    let f = this.dir32[hi]?.[index - hi * DIR];
    if (f === undefined) { this.frame(index, true); f = this.dir32[hi]![index - hi * DIR]!; }
    copyLine32(src32, w, f, (off - index * FRAME) >>> 2);
  }

  /** Visit [off, off+len) frame by frame: fn(frameIndex, offsetInFrame, doneSoFar, n). */
  private span(off: number, len: number, fn: (index: number, inFrame: number, done: number, n: number) => void): void {
    let done = 0;
    while (done < len) {
      const at = off + done;
      const index = Math.floor(at / FRAME);
      const inFrame = at - index * FRAME;
      const n = Math.min(len - done, FRAME - inFrame);
      fn(index, inFrame, done, n);
      done += n;
    }
  }

  /** Copy `len` bytes at device offset `off` into dst[dstOff..]. */
  read(off: number, dst: Uint8Array, dstOff: number, len: number): void {
    // Frame by frame (a line is one, a prefetch up to sixteen), without span's closure.
    for (let done = 0; done < len;) {
      const at = off + done, i = Math.floor(at / FRAME), inF = at - i * FRAME;
      const n = Math.min(len - done, FRAME - inF);
      const f = this.frame(i, false);
      if (!f) dst.fill(0, dstOff + done, dstOff + done + n);
      else dst.set(n === FRAME ? f : f.subarray(inF, inF + n), dstOff + done);
      done += n;
    }
  }

  /** Store src[srcOff..srcOff+len) at device offset `off` (and in the host file, if any). */
  write(off: number, src: Uint8Array, srcOff: number, len: number): void {
    const index = Math.floor(off / FRAME);
    const inFrame = off - index * FRAME;
    if (inFrame + len <= FRAME && this.fd === null) { // one frame, no host file
      // A whole-array source (the memory controller's per-line views of its drain buffer,
      // memsys.ts) needs no view: TypedArray set is a memcpy, about 20 ns a line against
      // 150 ns for a 64-byte loop.
      this.frame(index, true)!.set(srcOff === 0 && src.length === len ? src : src.subarray(srcOff, srcOff + len), inFrame);
      return;
    }
    this.span(off, len, (index, inFrame, done, n) => {
      const f = this.frame(index, true)!;
      f.set(src.subarray(srcOff + done, srcOff + done + n), inFrame);
      if (this.fd !== null) fs.writeSync(this.fd, f, inFrame, n, index * FRAME + inFrame);
    });
  }

  close(): void {
    if (this.fd !== null) { fs.closeSync(this.fd); this.fd = null; }
  }
}
