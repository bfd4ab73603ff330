/**
 * A package cache's state in one WebAssembly memory, and three routines of cache.ts
 * copyRun over it: the stream loop, the moves between a caller's buffer and the cache,
 * and the gathering of deferred write-backs. Host-side only: the model is cache.ts's, and
 * the routines make the same choices as copyRun's JavaScript line for line
 * (tests/hw/batch.test.ts runs its workload with and without them and compares DRAM,
 * loads and counters with the per-line path's).
 *
 * Why, measured in-process against the JavaScript alone: +23% on a user-process stream
 * under a key from the loop, +4-5% more from the moves.
 * - A stream's page (no line of it held in this cache, none in another) spent most of
 *   copyRun's own time in eleven array loads and stores per line: the victim from the LRU
 *   ring, its tag, a dirty victim's deferred write-back, the presence count, the install.
 *   As JavaScript over typed arrays each access pays a bounds check and a load of the
 *   array's base; here they are constant offsets into one memory.
 * - A page's lines are seldom in one way of consecutive sets (each page-table line filled
 *   into a set shifts that set's LRU ring for good), so they moved one line at a time as
 *   16 word copies. Through a stage, the page is one native copy and the routine scatters
 *   it 128 bits at a time; write-backs are gathered the same way, a run per queue copy.
 *
 * Layout (bytes from 0, each array aligned to its element; S sets, W ways, N = S * W):
 *   the line data (N lines, way-major: pkgcache.ts), a stage of a page's 64 lines for
 *   moves between the cache and a caller's buffer, one for write-backs gathered for the
 *   queue, tags f64[N], dec i32[N], present i32[PRESENCE], the pending write-backs' words,
 *   first, dec i32[64] each and addr f64[64], count i32[64], their two counts i32[2],
 *   the run's slots i32[64], the loop's state (below), dirty u8[N], order u8[N],
 *   head u8[S], inv u8[S], filled u8[64].
 * State (i32 words from `state`): rDec, rN, fills, wbs, installs, vBucket, vGone, and
 * rAddr as f64 at `stateAddr`: copyRun's locals of the same names, handed over and back.
 */
import { assemble, countUp, F64, I32, op, when, type WasmFunc } from './wasm-asm.js';

/** The presence filter's buckets (pkgcache.ts), a power of two. */
export const PRESENCE = 16384;
/** The tag of an invalid slot (no line number is negative). */
export const INVALID = -1;
/** Lines of a page: copyRun's run at most, and the length of its scratch arrays. */
export const RUN_LINES = 64;
const RUN = RUN_LINES;

/** State words (i32 index from layout.state / 4); rAddr is the f64 at layout.stateAddr. */
export const ST = { rDec: 0, rN: 1, fills: 2, wbs: 3, installs: 4, vBucket: 5, vGone: 6 } as const;
export const ST_WORDS = 8;

export interface CacheLayout {
  readonly data: number; readonly stage: number; readonly gathered: number;
  readonly tags: number; readonly dec: number; readonly present: number;
  readonly pendWords: number; readonly pendFirst: number; readonly pendDec: number;
  readonly pendAddr: number; readonly pendCount: number; readonly pendCounts: number;
  readonly slots: number; readonly state: number; readonly stateAddr: number;
  readonly dirty: number; readonly order: number; readonly head: number; readonly inv: number;
  readonly filled: number;
  /** Bytes in all. */
  readonly bytes: number;
}

function cacheLayout(sets: number, ways: number): CacheLayout {
  const n = sets * ways;
  let at = 0;
  const take = (bytes: number): number => { const a = at; at += bytes; at = Math.ceil(at / 8) * 8; return a; };
  const data = take(64 * n), stage = take(64 * RUN), gathered = take(64 * RUN);
  const tags = take(8 * n), dec = take(4 * n), present = take(4 * PRESENCE);
  const pendWords = take(4 * RUN), pendFirst = take(4 * RUN), pendDec = take(4 * RUN);
  const pendAddr = take(8 * RUN), pendCount = take(4 * RUN), pendCounts = take(8);
  const slots = take(4 * RUN), state = take(4 * ST_WORDS), stateAddr = take(8);
  const dirty = take(n), order = take(n), head = take(sets), inv = take(sets), filled = take(RUN);
  return { data, stage, gathered, tags, dec, present, pendWords, pendFirst, pendDec, pendAddr, pendCount, pendCounts, slots, state, stateAddr,
    dirty, order, head, inv, filled, bytes: at };
}

/**
 * run(k, n, set0, line0, write, did, okDec, okOff): copyRun's loop body for lines k..n-1
 * of a stream's page, returning the first line it did not do: n, or a line whose dirty
 * victim is under a decode other than okDec (copyRun's JavaScript does that one).
 */
export type StreamLoop = (k: number, n: number, set0: number, line0: number, write: number, did: number,
  okDec: number, okOff: number) => number;

/**
 * move(n, write): lines k < n between the stage (line k at stage + 64 k) and the data
 * (data line slots[k]): into the cache when `write` or filled[k], else out of it.
 */
export type MoveLines = (n: number, write: number) => void;
/** gather(from, m): the pending write-backs' lines from..from+m-1 (their data words) to the gathered stage, in order. */
export type GatherLines = (from: number, m: number) => void;

export interface CacheMemory {
  readonly buffer: ArrayBuffer;
  readonly layout: CacheLayout;
  /** The routines over it, or null (no WebAssembly, or a geometry cache.ts does not defer in). */
  readonly run: StreamLoop | null;
  readonly move: MoveLines | null;
  readonly gather: GatherLines | null;
}

const modules = new Map<string, WebAssembly.Module>();

/** A zeroed memory for a cache of `sets` x `ways` and, for a power-of-two set count, its three routines. */
export function cacheMemory(sets: number, ways: number): CacheMemory {
  const lay = cacheLayout(sets, ways);
  const pages = Math.ceil(lay.bytes / 65536);
  if (typeof WebAssembly !== 'object' || (sets & (sets - 1)) !== 0) {
    return { buffer: new ArrayBuffer(lay.bytes), layout: lay, run: null, move: null, gather: null };
  }
  const key = `${sets}x${ways}`;
  let m = modules.get(key);
  if (m === undefined) {
    m = new WebAssembly.Module(assemble([streamLoopFunc(sets, ways, lay), moveFunc(lay), gatherFunc(lay)], pages));
    modules.set(key, m);
  }
  const e = new WebAssembly.Instance(m, {}).exports as unknown as
    { memory: WebAssembly.Memory; run: StreamLoop; move: MoveLines; gather: GatherLines };
  return { buffer: e.memory.buffer, layout: lay, run: e.run, move: e.move, gather: e.gather };
}

/** Copy 64 bytes from [src + from] to [dst + to] (src, dst: locals holding byte offsets), as four 128-bit moves. */
function copyLine(dst: number, to: number, src: number, from: number): number[] {
  const out: number[] = [];
  for (let u = 0; u < 64; u += 16) out.push(...op.get(dst), ...op.get(src), ...op.load128(from + u), ...op.store128(to + u));
  return out;
}

function moveFunc(L: CacheLayout): WasmFunc {
  const [n, write, k, a, b] = [0, 1, 2, 3, 4];
  const g = op.get, s = op.set, c = op.i32;
  const body = countUp(k, n,
    [...g(k), ...c(6), ...op.shl, ...s(a), ...g(k), ...c(2), ...op.shl, ...op.load(L.slots), ...c(6), ...op.shl, ...s(b)],
    when([...g(write), ...g(k), ...op.load8U(L.filled), ...op.or], [copyLine(b, L.data, a, L.stage)],
      [copyLine(a, L.stage, b, L.data)]),
  );
  return { name: 'move', params: [I32, I32], locals: [I32, I32, I32], body };
}

function gatherFunc(L: CacheLayout): WasmFunc {
  const [from, m, i, a, b] = [0, 1, 2, 3, 4];
  const g = op.get, s = op.set, c = op.i32;
  const body = countUp(i, m,
    [...g(i), ...c(6), ...op.shl, ...s(a), ...g(from), ...g(i), ...op.add, ...c(2), ...op.shl, ...op.load(L.pendWords),
      ...c(2), ...op.shl, ...s(b)],
    copyLine(a, L.gathered, b, L.data),
  );
  return { name: 'gather', params: [I32, I32], locals: [I32, I32, I32], body };
}

function streamLoopFunc(sets: number, ways: number, L: CacheLayout): WasmFunc {
  // Params, then locals.
  const [k, n, set0, line0, write, did, okDec, okOff] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [set, base, h, way, slot, tag, addr, vb, rDec, rAddr, rN, fills, wbs, installs, vBucket, vGone, pRuns, pLines,
    t] = [8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26];
  const g = op.get, s = op.set, c = op.i32;
  const inc = (x: number): number[] => [...g(x), ...c(1), ...op.add, ...s(x)];
  const x4 = (x: number): number[] => [...g(x), ...c(2), ...op.shl];
  const x8 = (x: number): number[] => [...g(x), ...c(3), ...op.shl];
  const stI = (i: number): number => L.state + 4 * i;
  const dataLine = [...g(way), ...c(sets), ...op.mul, ...g(set), ...op.add]; // way * sets + set
  // pend.push(rDec, rAddr, rN): run pRuns is the last rN victims recorded.
  const push = [
    ...x4(pRuns), ...g(pLines), ...g(rN), ...op.sub, ...op.store(L.pendFirst),
    ...x4(pRuns), ...g(rDec), ...op.store(L.pendDec),
    ...x8(pRuns), ...g(rAddr), ...op.storeF64(L.pendAddr),
    ...x4(pRuns), ...g(rN), ...op.store(L.pendCount),
    ...inc(pRuns),
  ];
  // A dirty victim under okDec: its write-back is deferred (continuing the run, or starting one).
  const writeBack: number[][] = [
    [...g(tag), ...op.f64(64), ...op.mulF64, ...g(okOff), ...op.subF64, ...s(addr)],
    when([...g(rN), ...op.eqz, ...g(okDec), ...g(rDec), ...op.ne, ...op.or,
      ...g(addr), ...g(rAddr), ...g(rN), ...op.convertU32F64, ...op.f64(64), ...op.mulF64, ...op.addF64, ...op.neF64, ...op.or,
      ...g(addr), ...op.truncF64U64, ...op.wrap64, ...c(4095), ...op.and, ...op.eqz, ...op.or], [
      when([...g(rN)], [push]),
      [...g(okDec), ...s(rDec), ...g(addr), ...s(rAddr), ...c(0), ...s(rN)],
    ]),
    [...x4(pLines), ...dataLine, ...c(4), ...op.shl, ...op.store(L.pendWords), ...inc(pLines)],
    inc(rN), inc(wbs),
  ];
  const body = [
    // Locals from the state copyRun handed over.
    ...c(0), ...op.load(stI(ST.rDec)), ...s(rDec), ...c(0), ...op.load(stI(ST.rN)), ...s(rN),
    ...c(0), ...op.load(stI(ST.fills)), ...s(fills), ...c(0), ...op.load(stI(ST.wbs)), ...s(wbs),
    ...c(0), ...op.load(stI(ST.installs)), ...s(installs), ...c(0), ...op.load(stI(ST.vBucket)), ...s(vBucket),
    ...c(0), ...op.load(stI(ST.vGone)), ...s(vGone), ...c(0), ...op.loadF64(L.stateAddr), ...s(rAddr),
    ...c(0), ...op.load(L.pendCounts), ...s(pRuns), ...c(0), ...op.load(L.pendCounts + 4), ...s(pLines),
    ...countUp(k, n,
      [...g(set0), ...g(k), ...op.add, ...c(sets - 1), ...op.and, ...s(set), ...g(set), ...c(ways), ...op.mul, ...s(base)],
      [...g(set), ...op.load8U(L.head), ...s(h)],
      [...g(base), ...g(h), ...op.add, ...op.load8U(L.order), ...s(way), ...g(base), ...g(way), ...op.add, ...s(slot)],
      [...x8(slot), ...op.loadF64(L.tags), ...s(tag)],
      when([...g(tag), ...op.f64(INVALID), ...op.neF64], [
        when([...g(slot), ...op.load8U(L.dirty)], [
          [...x4(slot), ...op.load(L.dec), ...g(okDec), ...op.ne, ...op.brIf(3)], // if > if > loop > block: leave
          ...writeBack,
        ]),
        // The victim's presence count, a bucket at a time.
        [...g(tag), ...op.truncF64U64, ...op.wrap64, ...c(6), ...op.shrU, ...c(PRESENCE - 1), ...op.and, ...s(vb)],
        when([...g(vb), ...g(vBucket), ...op.ne], [
          when([...g(vGone)], [[...x4(vBucket), ...x4(vBucket), ...op.load(L.present), ...g(vGone), ...op.sub,
            ...op.store(L.present)]]),
          [...g(vb), ...s(vBucket), ...c(0), ...s(vGone)],
        ]),
        inc(vGone),
      ]),
      // Install: tag, LRU (the victim becomes the most recently used and valid), dirty, decode.
      [...x8(slot), ...g(line0), ...g(k), ...op.convertU32F64, ...op.addF64, ...op.storeF64(L.tags), ...inc(installs)],
      [...g(set), ...g(h), ...c(1), ...op.add, ...s(t), ...g(t), ...c(ways), ...op.ne, ...g(t), ...op.mul,
        ...op.store8(L.head)],
      [...g(set), ...op.load8U(L.inv), ...s(t)],
      when([...g(t)], [[...g(set), ...g(t), ...c(1), ...op.sub, ...op.store8(L.inv)]]),
      [...g(slot), ...g(write), ...op.store8(L.dirty), ...x4(slot), ...g(did), ...op.store(L.dec)],
      [...g(k), ...g(write), ...op.eqz, ...op.store8(L.filled), ...g(fills), ...g(write), ...op.eqz, ...op.add, ...s(fills)],
      [...x4(k), ...dataLine, ...op.store(L.slots)],
    ),
    // State back.
    ...c(0), ...g(rDec), ...op.store(stI(ST.rDec)), ...c(0), ...g(rN), ...op.store(stI(ST.rN)),
    ...c(0), ...g(fills), ...op.store(stI(ST.fills)), ...c(0), ...g(wbs), ...op.store(stI(ST.wbs)),
    ...c(0), ...g(installs), ...op.store(stI(ST.installs)), ...c(0), ...g(vBucket), ...op.store(stI(ST.vBucket)),
    ...c(0), ...g(vGone), ...op.store(stI(ST.vGone)), ...c(0), ...g(rAddr), ...op.storeF64(L.stateAddr),
    ...c(0), ...g(pRuns), ...op.store(L.pendCounts), ...c(0), ...g(pLines), ...op.store(L.pendCounts + 4),
    ...g(k),
  ];
  return {
    name: 'run', params: [I32, I32, I32, F64, I32, I32, I32, F64], results: [I32],
    locals: [I32, I32, I32, I32, I32, F64, F64, I32, I32, F64, I32, I32, I32, I32, I32, I32, I32, I32, I32],
    body,
  };
}
