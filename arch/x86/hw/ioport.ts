/**
 * The I/O port space (SDM Vol. 1 §19): 64 Ki byte-wide ports. Devices claim ranges; a
 * port nobody decodes floats (reads as all ones, writes are dropped), as on a PC.
 */
export interface IoPortHandler {
  read(port: number, size: 1 | 2 | 4): number;
  write(port: number, size: 1 | 2 | 4, value: number): void;
}

export class IoPortBus {
  private readonly ranges: { base: number; count: number; h: IoPortHandler }[] = [];

  /** Claim [base, base+count). A later claim of an overlapping range wins. */
  register(base: number, count: number, h: IoPortHandler): void {
    this.ranges.unshift({ base, count, h });
  }

  private find(port: number): IoPortHandler | null {
    for (const r of this.ranges) if (port >= r.base && port < r.base + r.count) return r.h;
    return null;
  }

  read(port: number, size: 1 | 2 | 4): number {
    const h = this.find(port);
    return h ? h.read(port, size) >>> 0 : (size === 4 ? 0xffffffff : (1 << (8 * size)) - 1);
  }

  write(port: number, size: 1 | 2 | 4, value: number): void {
    this.find(port)?.write(port, size, value >>> 0);
  }
}
