/**
 * The uncore below the caches: address decode, the memory controllers and their
 * engines, and the DIMMs. A line travelling between a cache and memory is split into
 * KeyID and address by the requesting package's view (its IA32_TME_ACTIVATE KeyID
 * bits), routed to the home node's memory controller, and encrypted or decrypted
 * there by that package's engine. The KeyID never reaches the DIMMs.
 *
 * An address in no range (a hole) raises a machine check.
 */
import { Fault, X86_TRAP_MC } from './isa.js';
import { Clock, COST } from './clock.js';
import { LINE } from './engine.js';
import type { Package } from './package.js';
import { SparseMemory } from './dram.js';
import type { PhysRange } from './memmap.js';

export interface Decoded {
  keyid: number;
  /** Address with the KeyID bits cleared. */
  addr: number;
  range: PhysRange;
  store: SparseMemory;
}

export class MemorySystem {
  private readonly scratch = new Uint8Array(LINE);

  constructor(
    readonly ranges: PhysRange[],
    readonly stores: SparseMemory[],
    private readonly pkgs: Package[],
    private readonly clock: Clock,
  ) {}

  /** Split and route `pa` as package `reqPkg` sees it; #MC for a hole. */
  decode(reqPkg: number, pa: number): Decoded {
    const eng = this.pkgs[reqPkg].engine;
    const keyid = eng.keyIdOf(pa);
    const addr = eng.stripKeyId(pa);
    for (let i = 0; i < this.ranges.length; i++) {
      const r = this.ranges[i];
      if (addr >= r.base && addr < r.base + r.size) return { keyid, addr, range: r, store: this.stores[i] };
    }
    throw new Fault(X86_TRAP_MC, 0, pa, 'no memory at this physical address');
  }

  /** Fill: read the decoded line (line-aligned) from memory, decrypting it. */
  readLine(d: Decoded, dst: Uint8Array, dstOff: number): void {
    d.store.read(d.addr - d.range.base, this.scratch, 0, LINE);
    this.pkgs[d.range.node].engine.decrypt(d.keyid, d.addr, this.scratch, 0, dst, dstOff);
    this.clock.tick(COST.memLine + COST.cryptLine);
  }

  /** Write-back: encrypt the line and store it in memory. */
  writeLine(reqPkg: number, pa: number, src: Uint8Array, srcOff: number): void {
    const d = this.decode(reqPkg, pa);
    this.pkgs[d.range.node].engine.encrypt(d.keyid, d.addr, src, srcOff, this.scratch, 0);
    d.store.write(d.addr - d.range.base, this.scratch, 0, LINE);
    this.clock.tick(COST.memLine + COST.cryptLine);
  }

  /** The raw store and offset behind a KeyID-free address, for the physical probe. */
  raw(addr: number): { store: SparseMemory; off: number; left: number } | null {
    for (let i = 0; i < this.ranges.length; i++) {
      const r = this.ranges[i];
      if (addr >= r.base && addr < r.base + r.size) {
        return { store: this.stores[i], off: addr - r.base, left: r.base + r.size - addr };
      }
    }
    return null;
  }
}
