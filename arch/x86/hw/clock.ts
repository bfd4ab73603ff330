/**
 * The virtual clock. Time advances only when the machine does work (each instruction,
 * cache hit, memory transfer and cipher operation has a fixed cost), never with the
 * host's wall clock, so timestamps in dmesg replay exactly. The memory costs and their
 * sources are in timing.ts.
 */
import { TIMING } from './timing.js';

export const TSC_HZ = 2_000_000_000; // 2 GHz nominal, reported in CPUID leaf 0x16

/** Costs in TSC cycles (memory transfers: timing.ts transferCycles). */
export const COST = {
  insn: TIMING.INSN,
  cacheHit: TIMING.CACHE_HIT,
  walkLevel: TIMING.WALK_LEVEL,
  msr: 100,
  pconfig: 2000,
  flushLine: TIMING.FLUSH_LINE,
} as const;

export class Clock {
  /** Cycles since power-on. */
  cycles = 0;
  tick(n: number): void { this.cycles += n; }
  reset(): void { this.cycles = 0; }
}
