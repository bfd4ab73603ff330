/**
 * The XTS routines in WebAssembly, generated at load time with wasm-asm.ts.
 *
 * Why, measured here (Node 20, 2 shared cores, best of many slices): one AES-128 block
 * with these T-tables takes about 84 ns as WebAssembly against 165-180 ns in JS (noble's
 * or aes-block.ts); an encrypt+decrypt line pair through XtsCipher about 1.0 us against
 * 2.25 us; a page about 5-6 us against 12.6 us for the best JS page path tried (64-bit
 * BigInt XOR passes), because tweak expansion and the XORs run on 64-bit words here.
 *
 * Per XtsCipher there is one instance with its own 192 KiB memory (B = BATCH_LINES = 1024):
 *   0x0000 E0..E3     encryption T-tables (aes-block.ts tableBytes), 4 x 1 KiB
 *   0x1000 D0..D3     decryption T-tables, 4 x 1 KiB
 *   0x2000, 0x3000    last-round tables: S(x) << 8k and Si(x) << 8k, 4 x 1 KiB each
 *   0x4000 XK1, 0x4100 XK1D, 0x4200 XK2   key schedules (noble's, up to 240 bytes each)
 *   0x4400 LINE       one 64-byte line, encrypted or decrypted in place
 *   0x4800 TIN, then TOUT     line tweak inputs / their encryption, B blocks each
 *   then TW           the 4B block tweaks of a batch
 *   then PA           the batch buffer (64 KiB): P ^ T in, then the ECB result ^ T out
 *                     (one area, not two: less of the host's cache to keep warm)
 * (1024-line batches rather than a page's 64: node:crypto's fixed cost per call is about
 * 1.5-2 us; measured here, one ECB call of 4 KiB runs at 2.0 GB/s, 16 KiB at 2.9, 64 KiB
 * at 5.4 (256 KiB falls back to 4.4); a batch of lines cost 88 ns a line in runs of 64, 43
 * in runs of 256, 35 in runs of 1024.)
 * Exports (rounds fixed per generated variant, 10 for AES-128 and 14 for AES-256):
 *   encLine(lo, hi), decLine(lo, hi)  XTS of LINE with tweak = hi:lo (the line address)
 *   tweakRun(at, n, lo, hi)  TIN[at + i] = address + 64 i for i < n, as 16-byte
 *                     little-endian blocks (a run of lines at consecutive addresses)
 *   pageIn(n)         TW[4i+j] = TOUT[i] * alpha^j, and PA ^= TW, for lines i < n (1..B)
 *   pageOut(n)        PA ^= TW, for lines i < n (PA then holds the ECB result)
 * The AES round code mirrors aes-block.ts (table layout and round equations).
 */
import { tableBytes } from './aes-block.js';
import { assemble, I32, I64, op, V128, type WasmFunc } from '../wasm-asm.js';

/** Lines one pageIn/pageOut call handles at most (the TIN/TOUT/TW/PA areas below). */
export const BATCH_LINES = 1024;

export const MEM = {
  TE: 0x0000, TD: 0x1000, TS: 0x2000, TIS: 0x3000, XK1: 0x4000, XK1D: 0x4100, XK2: 0x4200,
  LINE: 0x4400, TIN: 0x4800,
  TOUT: 0x4800 + 16 * BATCH_LINES,
  TW: 0x4800 + 32 * BATCH_LINES,
  PA: 0x4800 + 96 * BATCH_LINES,
  END: 0x4800 + 160 * BATCH_LINES,
} as const;
/** 64 KiB WebAssembly pages of memory. */
const MEM_PAGES = Math.ceil(MEM.END / 65536);

/** The address of the table entry for byte k of local s: ((s >>> 8k) & 255) * 4. */
function entry(s: number, k: number): number[] {
  return k === 0
    ? [...op.get(s), ...op.i32(2), ...op.shl, ...op.i32(0x3fc), ...op.and]
    : [...op.get(s), ...op.i32(8 * k - 2), ...op.shrU, ...op.i32(0x3fc), ...op.and];
}

/** Load round-key word c of round r from the schedule at `xk`. */
const key = (xk: number, r: number, c: number): number[] => [...op.i32(0), ...op.load(xk + 16 * r + 4 * c)];

/** Pushes round-key word c of the round being emitted. */
type KeyWord = (c: number) => number[];

/**
 * One AES round: locals `to` = round(locals `from`). Encryption column c takes byte k
 * from s[c+k], decryption (equivalent inverse cipher) from s[c-k]. The final round has
 * no MixColumns, so it looks up the pre-shifted (inverse) S-box instead.
 */
function emitRound(code: number[], dec: boolean, keyWord: KeyWord, from: number[], to: number[], final: boolean): void {
  const table = final ? (dec ? MEM.TIS : MEM.TS) : (dec ? MEM.TD : MEM.TE);
  for (let c = 0; c < 4; c++) {
    code.push(...keyWord(c));
    for (let k = 0; k < 4; k++) {
      code.push(...entry(from[(dec ? c - k + 4 : c + k) & 3], k), ...op.load(table + 0x400 * k), ...op.xor);
    }
    code.push(...op.set(to[c]));
  }
}

/**
 * Rounds 1..nr of AES on one block (the caller has done the initial AddRoundKey into
 * locals `a`); locals `b` are scratch; the result ends in `a`. Rounds 2..nr-1 run as a
 * loop, two rounds per iteration (a -> b -> a, no copies), with the round keys read
 * through local `kp`. Measured per encrypt+decrypt line pair (AES-128): 0.86 us, against
 * 0.91 us fully unrolled, 0.97 us one round per iteration, and 1.16 us with two blocks
 * interleaved (the extra state spills out of registers).
 */
function aesRounds(code: number[], dec: boolean, nr: number, xk: number, a: number[], b: number[], kp: number): number[] {
  emitRound(code, dec, (c) => key(xk, 1, c), a, b, false);
  code.push(...op.i32(xk + 32), ...op.set(kp), ...op.loop);
  emitRound(code, dec, (c) => [...op.get(kp), ...op.load(4 * c)], b, a, false);
  emitRound(code, dec, (c) => [...op.get(kp), ...op.load(16 + 4 * c)], a, b, false);
  code.push(...op.get(kp), ...op.i32(32), ...op.add, ...op.tee(kp), ...op.i32(xk + 16 * nr), ...op.ltU, ...op.brIf(0), ...op.end);
  emitRound(code, dec, (c) => key(xk, nr, c), b, a, true);
  return a;
}

/** w = w * alpha (IEEE 1619 §5.2) on four i32 locals, using `tmp`. */
function alpha(code: number[], w: number[], tmp: number): void {
  code.push(...op.get(w[3]), ...op.i32(31), ...op.shrU, ...op.i32(0x87), ...op.mul, ...op.set(tmp));
  for (let c = 3; c > 0; c--) {
    code.push(...op.get(w[c]), ...op.i32(1), ...op.shl, ...op.get(w[c - 1]), ...op.i32(31), ...op.shrU, ...op.or,
      ...op.set(w[c]));
  }
  code.push(...op.get(w[0]), ...op.i32(1), ...op.shl, ...op.get(tmp), ...op.xor, ...op.set(w[0]));
}

/** encLine / decLine: params lo, hi; XTS of the 64 bytes at LINE, in place. */
function lineFunc(dec: boolean, nr: number): WasmFunc {
  const [lo, hi] = [0, 1];
  const s = [2, 3, 4, 5], t = [6, 7, 8, 9], w = [10, 11, 12, 13], j = 14, tmp = 15, kp = 16;
  const code: number[] = [];
  // T = AES-enc(key2, [lo, hi, 0, 0])
  code.push(...op.get(lo), ...key(MEM.XK2, 0, 0), ...op.xor, ...op.set(s[0]));
  code.push(...op.get(hi), ...key(MEM.XK2, 0, 1), ...op.xor, ...op.set(s[1]));
  code.push(...key(MEM.XK2, 0, 2), ...op.set(s[2]), ...key(MEM.XK2, 0, 3), ...op.set(s[3]));
  const tw = aesRounds(code, false, nr, MEM.XK2, s, t, kp);
  for (let c = 0; c < 4; c++) code.push(...op.get(tw[c]), ...op.set(w[c]));
  const xk = dec ? MEM.XK1D : MEM.XK1;
  code.push(...op.i32(0), ...op.set(j), ...op.loop);
  for (let c = 0; c < 4; c++) {
    code.push(...op.get(j), ...op.load(MEM.LINE + 4 * c), ...op.get(w[c]), ...op.xor, ...key(xk, 0, c), ...op.xor,
      ...op.set(s[c]));
  }
  const out = aesRounds(code, dec, nr, xk, s, t, kp);
  for (let c = 0; c < 4; c++) {
    code.push(...op.get(j), ...op.get(out[c]), ...op.get(w[c]), ...op.xor, ...op.store(MEM.LINE + 4 * c));
  }
  alpha(code, w, tmp);
  code.push(...op.get(j), ...op.i32(16), ...op.add, ...op.tee(j), ...op.i32(64), ...op.ltU, ...op.brIf(0), ...op.end);
  return { name: dec ? 'decLine' : 'encLine', params: [I32, I32], locals: new Array(15).fill(I32), body: code };
}

/**
 * tweakRun(at, n, lo, hi): TIN blocks at .. at+n-1 = (hi:lo) + 64 i as 128-bit
 * little-endian integers (n >= 1; the caller keeps at + n within the batch).
 */
function tweakRunFunc(): WasmFunc {
  const [at, n, lo, hi, i, end, a] = [0, 1, 2, 3, 4, 5, 6];
  const code = [
    ...op.get(lo), ...op.extendU, ...op.get(hi), ...op.extendU, ...op.i64(32), ...op.shl64, ...op.or64, ...op.set(a),
    ...op.get(at), ...op.i32(16), ...op.mul, ...op.set(i),
    ...op.get(at), ...op.get(n), ...op.add, ...op.i32(16), ...op.mul, ...op.set(end),
    ...op.loop,
    ...op.get(i), ...op.get(a), ...op.store64(MEM.TIN),
    ...op.get(i), ...op.i64zero, ...op.store64(MEM.TIN + 8),
    ...op.get(a), ...op.i64(64), ...op.add64, ...op.set(a),
    ...op.get(i), ...op.i32(16), ...op.add, ...op.tee(i), ...op.get(end), ...op.ltU, ...op.brIf(0), ...op.end,
  ];
  return { name: 'tweakRun', params: [I32, I32, I32, I32], locals: [I32, I32, I64], body: code };
}

/**
 * pageIn(n): for the first n lines, TW[4i+j] = TOUT[i] * alpha^j and PA ^= TW, 128 bits at
 * a time. The multiplication by alpha runs on the tweak as one v128 of two i64 lanes
 * (lo, hi), a few per cent faster on a batch than as two i64 locals:
 *   m = swap(t >>s 63) & (0x87, 1)   the bit carried out of hi (as 0x87) and out of lo (as 1)
 *   t = (t << 1) ^ m                 (IEEE 1619 §5.2: shift left, fold the carry back)
 * Recomputing the tweaks in pageOut instead of storing TW measured 4-5% slower.
 */
function pageInFunc(): WasmFunc {
  const [n, i, k, t, m] = [0, 1, 2, 3, 4];
  const fold = [0x87, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0];
  const swap = [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7];
  const code = [...op.i32(0), ...op.set(i), ...op.i32(0), ...op.set(k), ...op.loop,
    ...op.get(i), ...op.load128(MEM.TOUT), ...op.set(t)];
  for (let j = 0; j < 4; j++) {
    const o = 16 * j;
    code.push(...op.get(k), ...op.get(t), ...op.store128(MEM.TW + o));
    code.push(...op.get(k), ...op.get(k), ...op.load128(MEM.PA + o), ...op.get(t), ...op.xor128, ...op.store128(MEM.PA + o));
    if (j < 3) {
      code.push(...op.get(t), ...op.i32(63), ...op.shrS64x2, ...op.tee(m), ...op.get(m), ...op.shuffle8x16(swap),
        ...op.const128(fold), ...op.and128, ...op.set(m));
      code.push(...op.get(t), ...op.i32(1), ...op.shl64x2, ...op.get(m), ...op.xor128, ...op.set(t));
    }
  }
  code.push(...op.get(k), ...op.i32(64), ...op.add, ...op.set(k));
  code.push(...op.get(i), ...op.i32(16), ...op.add, ...op.tee(i), ...op.get(n), ...op.i32(4), ...op.shl, ...op.ltU,
    ...op.brIf(0), ...op.end);
  return { name: 'pageIn', params: [I32], locals: [I32, I32, V128, V128], body: code };
}

/** pageOut(n): PA ^= TW over the first n lines, 128 bits at a time. */
function pageOutFunc(): WasmFunc {
  const [n, k] = [0, 1];
  const code = [...op.i32(0), ...op.set(k), ...op.loop];
  for (let u = 0; u < 64; u += 16) {
    code.push(...op.get(k), ...op.get(k), ...op.load128(MEM.PA + u), ...op.get(k), ...op.load128(MEM.TW + u),
      ...op.xor128, ...op.store128(MEM.PA + u));
  }
  code.push(...op.get(k), ...op.i32(64), ...op.add, ...op.tee(k), ...op.get(n), ...op.i32(6), ...op.shl, ...op.ltU,
    ...op.brIf(0), ...op.end);
  return { name: 'pageOut', params: [I32], locals: [I32], body: code };
}

export interface XtsWasmExports {
  memory: WebAssembly.Memory;
  encLine(lo: number, hi: number): void;
  decLine(lo: number, hi: number): void;
  tweakRun(at: number, n: number, lo: number, hi: number): void;
  pageIn(n: number): void;
  pageOut(n: number): void;
}

/** Compiled modules by round count (10 or 14), and the tables every instance starts with. */
const modules = new Map<number, WebAssembly.Module>();
let tables: Uint8Array | null = null;

/** Whether this host has WebAssembly at all (node --jitless does not). */
export const wasmAvailable = typeof WebAssembly === 'object';

/**
 * A fresh module instance for AES with `nr` rounds, tables loaded, no keys yet; null when
 * the host has no WebAssembly. Any other failure (a bad module) throws: it is a bug.
 */
export function newXtsModule(nr: number): XtsWasmExports | null {
  if (!wasmAvailable) return null;
  let m = modules.get(nr);
  if (m === undefined) {
    m = new WebAssembly.Module(assemble([lineFunc(false, nr), lineFunc(true, nr), tweakRunFunc(), pageInFunc(), pageOutFunc()],
      MEM_PAGES));
    modules.set(nr, m);
  }
  tables ??= tableBytes();
  const k = new WebAssembly.Instance(m, {}).exports as unknown as XtsWasmExports;
  new Uint8Array(k.memory.buffer).set(tables, MEM.TE);
  return k;
}
