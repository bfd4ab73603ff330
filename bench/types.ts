/**
 * Shared types and timing helpers for benchmark sections (see bench.ts).
 */

/** A goal on one figure: it is met when min <= value <= max (either bound optional). */
export interface Goal { min?: number; max?: number }
export type Goals = Record<string, Goal>;

/** What bench.ts expects a section module to export. */
export interface SectionModule {
  run(): Promise<Record<string, number>>;
  goals: Goals;
}

/**
 * Throughput of one operation, accumulated over time slices. Sections that compare two
 * figures (a ratio) should interleave their slices with `measureInterleaved`, so both see
 * the same machine load: on shared cores a single long run of each drifts apart.
 */
export class Meter {
  private steps = 0;
  private ns = 0;
  /** MB/s of each counted slice, in order. */
  readonly slices: number[] = [];

  /** `step` processes `bytesPerStep` bytes per call. */
  constructor(private readonly step: () => void, private readonly bytesPerStep: number) {}

  /** Run for about `ms` milliseconds; counted unless `warmUp`. */
  run(ms: number, warmUp = false): void {
    const limit = BigInt(Math.round(ms * 1e6));
    const start = process.hrtime.bigint();
    let now = start;
    let steps = 0;
    while (now - start < limit) {
      // Read the clock every four steps: hrtime is cheap, not free.
      this.step(); this.step(); this.step(); this.step();
      steps += 4;
      now = process.hrtime.bigint();
    }
    if (!warmUp) {
      this.steps += steps;
      this.ns += Number(now - start);
      this.slices.push((steps * this.bytesPerStep) / (Number(now - start) / 1e9) / 1e6);
    }
  }

  /** MB/s (1e6 bytes per second) over all counted slices. */
  get mbPerS(): number {
    return this.ns === 0 ? NaN : (this.steps * this.bytesPerStep) / (this.ns / 1e9) / 1e6;
  }
}

/** The median of a list of numbers (NaN for none). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * The median over rounds of a's slice divided by b's slice of the same round (after
 * measureInterleaved): a ratio that a load spike on the shared cores, hitting one round,
 * does not move.
 */
export function medianRatio(a: Meter, b: Meter): number {
  const n = Math.min(a.slices.length, b.slices.length);
  return median(Array.from({ length: n }, (_, i) => a.slices[i] / b.slices[i]));
}

/** Warm every meter up, then run `rounds` rounds of one `sliceMs` slice each, in turn. */
export function measureInterleaved(meters: Meter[], rounds: number, sliceMs: number, warmMs = 100): void {
  for (const m of meters) m.run(warmMs, true);
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let r = 0; r < rounds; r++) {
    for (const m of meters) m.run(sliceMs);
    gc?.();
  }
}

/** Run one operation alone for about `ms` (after `warmMs`) and return MB/s. */
export function throughput(step: () => void, bytesPerStep: number, ms: number, warmMs = 100): number {
  const m = new Meter(step, bytesPerStep);
  m.run(warmMs, true);
  m.run(ms);
  return m.mbPerS;
}
