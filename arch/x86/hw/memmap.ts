/**
 * The board's physical address map, computed from the configuration. Both the memory
 * controllers (which decode addresses) and the firmware (which reports them to the
 * kernel as e820 and SRAT) read it from here.
 *
 *   0            1 MiB                3 GiB      4 GiB
 *   | legacy/BIOS | node 0 DRAM ...    | PCI hole | node 0 DRAM (rest) | node 1 DRAM | ... | NVRAM |
 *
 * - The first MiB is reserved (BIOS data, option ROMs); it is DRAM but not usable RAM.
 * - DRAM that would cross 3 GiB continues at 4 GiB; [3 GiB, 4 GiB) is a hole (MMIO).
 * - Each node's DRAM follows the previous one's. NVRAM sits after all DRAM, 1 GiB
 *   aligned, and belongs to node 0.
 * Accesses to addresses in no range raise a machine check.
 */
import { GiB, MiB, type MachineConfig } from './config.js';

export type RangeKind = 'dram' | 'nvram';

export interface PhysRange {
  base: number;
  size: number;
  node: number;
  kind: RangeKind;
  /** Reserved by firmware (not usable RAM) although backed by DRAM. */
  reserved: boolean;
}

export const LEGACY_END = 1 * MiB;
export const HOLE_START = 3 * GiB;
export const HOLE_END = 4 * GiB;

export function buildMemMap(cfg: MachineConfig): PhysRange[] {
  const ranges: PhysRange[] = [];
  let next = 0;
  for (let node = 0; node < cfg.packages; node++) {
    let left = cfg.memPerNode;
    if (node === 0) {
      const legacy = Math.min(LEGACY_END, left);
      ranges.push({ base: 0, size: legacy, node, kind: 'dram', reserved: true });
      next = legacy;
      left -= legacy;
    }
    while (left > 0) {
      if (next >= HOLE_START && next < HOLE_END) next = HOLE_END;
      const limit = next < HOLE_START ? HOLE_START : Infinity;
      const size = Math.min(left, limit - next);
      ranges.push({ base: next, size, node, kind: 'dram', reserved: false });
      next += size;
      left -= size;
    }
  }
  if (cfg.nvramSize > 0) {
    const base = Math.max(HOLE_END, Math.ceil(next / GiB) * GiB);
    ranges.push({ base, size: cfg.nvramSize, node: 0, kind: 'nvram', reserved: false });
  }
  return ranges;
}

