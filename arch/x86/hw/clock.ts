/**
 * The virtual clock. Time advances only when the machine does work (each instruction,
 * cache hit, memory transfer and cipher operation has a fixed cost), never with the
 * host's wall clock, so timestamps in dmesg replay exactly.
 */
export const TSC_HZ = 2_000_000_000; // 2 GHz nominal, reported in CPUID leaf 0x16

/** Costs in TSC cycles. Rough Ice Lake-SP figures; only their order matters. */
export const COST = {
  insn: 1,
  cacheHit: 4,
  memLine: 200,
  cryptLine: 20,
  walkLevel: 4,
  msr: 100,
  pconfig: 2000,
  flushLine: 50,
} as const;

export class Clock {
  /** Cycles since power-on. */
  cycles = 0;
  tick(n: number): void { this.cycles += n; }
  reset(): void { this.cycles = 0; }
}
