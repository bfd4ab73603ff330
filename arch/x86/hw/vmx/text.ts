/**
 * The text table: routines by code address (isa.ts, "Execution model"). One table per
 * machine. Each entry belongs to a code domain: 0 for the host, or the EPT root (PA of
 * the EPT PML4, KeyID bits included) of the VM whose code it is. Address 0 is never code.
 */
import type { CodeAddr, Routine } from '../isa.js';

export const HOST_DOMAIN = 0;

interface TextEntry { routine: Routine; name: string; domain: number }

export class TextTable {
  private readonly entries: (TextEntry | undefined)[] = [undefined];

  register(routine: Routine, name: string, domain: number): CodeAddr {
    this.entries.push({ routine, name, domain });
    return this.entries.length - 1;
  }

  /** The routine at `addr` if it is code of `domain`, else null. */
  lookup(addr: number, domain: number): TextEntry | null {
    if (!Number.isSafeInteger(addr) || addr <= 0) return null;
    const e = this.entries[addr];
    return e && e.domain === domain ? e : null;
  }
}
