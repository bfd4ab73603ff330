/**
 * The physical attacker: a DIMM interposer, or a cold-boot attacker with the modules in
 * a reader. It sees the DIMMs' bytes (ciphertext after TME activation) and the memory
 * bus, never the caches, never the KeyID (which does not leave the SoC). It can read,
 * write (tamper), snapshot and restore (replay) raw DRAM and NVRAM.
 *
 * Nothing in the kernel can reach this object: it belongs to the machine's owner
 * (tests, the shell's `dimm` tool).
 */
import type { MemorySystem } from './memsys.js';

export interface Snapshot { addr: number; bytes: Uint8Array }

export class PhysicalProbe {
  constructor(private readonly mem: MemorySystem) {}

  /** Raw bytes at [addr, addr+len); null if any part is not backed by a DIMM. */
  read(addr: number, len: number): Uint8Array | null {
    const out = new Uint8Array(len);
    return this.walk(addr, len, (store, off, at, n) => store.read(off, out, at, n)) ? out : null;
  }

  /** Overwrite raw bytes; false (and nothing written) if any part is unbacked. */
  write(addr: number, bytes: Uint8Array): boolean {
    if (!this.walk(addr, bytes.length, () => undefined)) return false;
    return this.walk(addr, bytes.length, (store, off, at, n) => store.write(off, bytes, at, n));
  }

  snapshot(addr: number, len: number): Snapshot | null {
    const bytes = this.read(addr, len);
    return bytes ? { addr, bytes } : null;
  }

  restore(s: Snapshot): boolean { return this.write(s.addr, s.bytes); }

  /** Does `needle` occur anywhere in [addr, addr+len) of raw memory? */
  scan(addr: number, len: number, needle: Uint8Array): boolean {
    const hay = this.read(addr, len);
    if (!hay || needle.length === 0) return false;
    return Buffer.from(hay.buffer, hay.byteOffset, hay.length).indexOf(Buffer.from(needle)) >= 0;
  }

  private walk(addr: number, len: number,
    fn: (store: import('./dram.js').SparseMemory, off: number, at: number, n: number) => void): boolean {
    if (!Number.isSafeInteger(addr) || !Number.isSafeInteger(len) || addr < 0 || len < 0) return false;
    let done = 0;
    while (done < len) {
      const r = this.mem.raw(addr + done);
      if (!r) return false;
      const n = Math.min(len - done, r.left);
      fn(r.store, r.off, done, n);
      done += n;
    }
    return true;
  }
}
