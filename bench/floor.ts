/**
 * What the machine's per-line cache model costs at the least, in host time: a stand-alone
 * loop that does only what a streaming write miss must do in it, nothing of the machine
 * imported. It measures a design, not this tree's code:
 *
 *   node build/bench/floor.js
 *
 *   random   the model as it is: 512 sets x 8 ways (the default 256 KiB cache), a seeded
 *            random victim, slot-major data; each dirty victim copied into a 1024-line
 *            write-combining queue, the queue drained line by line into 4 KiB frames; the
 *            new line copied in; a snoop of a second cache
 *   lru      the same with LRU victims and a way-major layout, so a stream evicts whole
 *            pages and every copy is a run moved by TypedArray.set
 *
 * No cipher, counters, clock, decode or kernel: add those to read a floor for the
 * machine. The stream is 32 MiB of 4 KiB pages written in order, as in `make bench`'s
 * memory section. Printed: ns per line, best of 6 passes. (README, Benchmarks.)
 */
import { Rng } from '../arch/x86/hw/rng.js';

const SETS = 512, WAYS = 8, SLOTS = SETS * WAYS, LINE = 64, PAGE = 4096, QUEUE = 1024;
const STREAM = 32 * 1024 * 1024;
const FRAMES = STREAM / PAGE;

interface Model { writePage(pa: number): void; }

function frames(): Uint8Array[] { return Array.from({ length: FRAMES }, () => new Uint8Array(PAGE)); }

/** Slot-major (slot = set * WAYS + way), random victims, line-by-line copies. */
function randomModel(): Model {
  const tags = new Float64Array(SLOTS).fill(-1), other = new Float64Array(SLOTS).fill(-1);
  const dirty = new Uint8Array(SLOTS), data = new Int32Array(SLOTS * 16);
  const qd = new Int32Array(QUEUE * 16), qa = new Float64Array(QUEUE);
  const mem = frames().map((f) => new Int32Array(f.buffer));
  const src = new Int32Array(PAGE / 4).fill(7);
  const rng = new Rng(1);
  let qn = 0;
  const drain = (): void => {
    for (let i = 0; i < qn; i++) {
      const f = mem[qa[i] / PAGE >>> 0], d = (qa[i] & (PAGE - 1)) >>> 2; // addresses < 2^31 here
      for (let j = 0; j < 16; j++) f[d + j] = qd[i * 16 + j];
    }
    qn = 0;
  };
  return {
    writePage(pa: number): void {
      const line0 = pa / LINE;
      for (let k = 0; k < PAGE / LINE; k++) {
        const line = line0 + k, base = ((line >>> 0) & (SETS - 1)) * WAYS;
        let slot = -1;
        for (let i = base; i < base + WAYS; i++) if (tags[i] === line) { slot = i; break; }
        if (slot < 0) {
          for (let i = base; i < base + WAYS; i++) if (other[i] === line) other[i] = -1;
          for (let i = base; i < base + WAYS && slot < 0; i++) if (tags[i] === -1) slot = i;
          if (slot < 0) {
            slot = base + rng.below(WAYS);
            if (dirty[slot]) {
              qa[qn] = tags[slot] * LINE;
              for (let j = 0; j < 16; j++) qd[qn * 16 + j] = data[slot * 16 + j];
              if (++qn === QUEUE) drain();
            }
          }
          tags[slot] = line; dirty[slot] = 1;
        }
        for (let j = 0; j < 16; j++) data[slot * 16 + j] = src[k * 16 + j];
      }
    },
  };
}

/** Way-major (slot = way * SETS + set), LRU victims, copies in runs of adjacent slots. */
function lruModel(): Model {
  const tags = new Float64Array(SLOTS).fill(-1), other = new Float64Array(SLOTS).fill(-1);
  const dirty = new Uint8Array(SLOTS), stamp = new Float64Array(SLOTS), data = new Uint8Array(SLOTS * LINE);
  const qd = new Uint8Array(QUEUE * LINE), qa = new Float64Array(QUEUE);
  const mem = frames();
  const src = new Uint8Array(PAGE).fill(7);
  const victims = new Int32Array(PAGE / LINE), slots = new Int32Array(PAGE / LINE);
  let qn = 0, now = 0;
  const drain = (): void => {
    for (let i = 0; i < qn;) {
      let j = i + 1;
      while (j < qn && qa[j] === qa[j - 1] + LINE && (qa[j] & (PAGE - 1)) !== 0) j++;
      mem[qa[i] / PAGE >>> 0].set(qd.subarray(i * LINE, j * LINE), qa[i] & (PAGE - 1));
      i = j;
    }
    qn = 0;
  };
  /** Copy runs of adjacent slots: to(slot run, index run) for each maximal run. */
  const runs = (list: Int32Array, n: number, to: (first: number, at: number, count: number) => void): void => {
    for (let i = 0; i < n;) {
      let j = i + 1;
      while (j < n && list[j] === list[j - 1] + 1) j++;
      to(list[i], i, j - i);
      i = j;
    }
  };
  return {
    writePage(pa: number): void {
      const line0 = pa / LINE, set0 = (line0 >>> 0) & (SETS - 1);
      let nv = 0;
      for (let k = 0; k < PAGE / LINE; k++) {
        const line = line0 + k, set = (set0 + k) & (SETS - 1);
        let slot = -1;
        for (let s = set; s < SLOTS; s += SETS) if (tags[s] === line) { slot = s; break; }
        if (slot < 0) {
          for (let s = set; s < SLOTS; s += SETS) if (other[s] === line) other[s] = -1;
          slot = set;
          for (let s = set + SETS; s < SLOTS; s += SETS) if (stamp[s] < stamp[slot]) slot = s;
          if (tags[slot] >= 0 && dirty[slot]) { victims[nv] = slot; qa[qn + nv] = tags[slot] * LINE; nv++; }
          tags[slot] = line; dirty[slot] = 1;
        }
        stamp[slot] = ++now;
        slots[k] = slot;
      }
      runs(victims, nv, (first, at, count) => qd.set(data.subarray(first * LINE, (first + count) * LINE), (qn + at) * LINE));
      qn += nv;
      if (qn > QUEUE - PAGE / LINE) drain();
      runs(slots, PAGE / LINE, (first, at, count) => data.set(src.subarray(at * LINE, (at + count) * LINE), first * LINE));
    },
  };
}

function measure(model: Model): number {
  let best = Infinity;
  for (let pass = 0; pass < 6; pass++) {
    const t0 = performance.now();
    for (let pa = 0; pa < STREAM; pa += PAGE) model.writePage(pa);
    best = Math.min(best, ((performance.now() - t0) * 1e6) / (STREAM / LINE));
  }
  return best;
}

for (const [name, make] of [['random', randomModel], ['lru', lruModel]] as const) {
  console.log(`${name.padEnd(7)} ${measure(make()).toFixed(1)} ns per line written`);
}
