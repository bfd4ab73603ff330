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
 * Run `step` repeatedly for about `ms` milliseconds (after `warmMs` of warm-up that is
 * not counted) and return its throughput in MB/s (1e6 bytes per second), given that
 * one call of `step` processes `bytesPerStep` bytes.
 */
export function throughput(step: () => void, bytesPerStep: number, ms: number, warmMs = 100): number {
  const runFor = (limitMs: number): { steps: number; ns: number } => {
    const limit = BigInt(Math.round(limitMs * 1e6));
    const start = process.hrtime.bigint();
    let now = start;
    let steps = 0;
    while (now - start < limit) {
      // Read the clock every four steps: hrtime is cheap, not free.
      step(); step(); step(); step();
      steps += 4;
      now = process.hrtime.bigint();
    }
    return { steps, ns: Number(now - start) };
  };
  runFor(warmMs);
  const { steps, ns } = runFor(ms);
  return (steps * bytesPerStep) / (ns / 1e9) / 1e6;
}
