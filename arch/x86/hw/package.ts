/**
 * One package (socket): its TME MSRs, its MKTME engine and its cache. The four TME
 * MSRs are package-scoped: every logical CPU of the package reads and writes the same
 * registers (Linux compares them across CPUs to catch inconsistent firmware).
 */
import type { MachineConfig } from './config.js';
import { MktmeEngine } from './engine.js';
import type { Rng } from './rng.js';

export class Package {
  /** IA32_TME_ACTIVATE (0x982). */
  tmeActivate = 0n;
  /** IA32_TME_EXCLUDE_MASK (0x983). */
  excludeMask = 0n;
  /** IA32_TME_EXCLUDE_BASE (0x984). */
  excludeBase = 0n;
  readonly engine: MktmeEngine;

  constructor(readonly index: number, cfg: MachineConfig, rng: Rng) {
    this.engine = new MktmeEngine(index, cfg.cpu.maxKeys, cfg.cpu.maxPhysAddr, rng);
  }

  /** Cold reset: MSRs to their power-on values, the engine forgets its keys. */
  reset(keepSavedKey: boolean): void {
    this.tmeActivate = 0n;
    this.excludeMask = 0n;
    this.excludeBase = 0n;
    this.engine.reset(keepSavedKey);
  }
}
