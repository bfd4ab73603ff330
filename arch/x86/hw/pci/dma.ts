/**
 * Device memory access: the path a DMA request takes from a PCI function to memory.
 *
 *   device --(bus address, requester ID)--> IOMMU (if translation is enabled)
 *          --(host physical address, KeyID in its upper bits)--> root complex
 *          --> the same coherent path the CPUs use: package 0's cache (the root port
 *              sits on socket 0 and writes allocate there, as Intel's DDIO does),
 *              snooping the other caches, and on write-back the home node's engine
 *              encrypts the line under the KeyID the address carries.
 *
 * So DMA is cache-coherent, and a device that emits a KeyID-0 address to a page the
 * CPU uses under KeyID 1 reads or writes a different alias: ciphertext or garbage.
 * Without an IOMMU (or in pass-through) the bus address *is* that physical address,
 * KeyID bits included (the MKTME series' phys_to_dma).
 *
 * A request the IOMMU blocks is recorded there as a fault; the device sees an
 * unsuccessful completion ('fault'). An address with no memory behind it (a hole,
 * beyond MAXPHYADDR) ends in a master abort ('abort'). Either way the request stops
 * at the first bad page; pages before it were transferred, as on real hardware.
 */
import type { CacheSystem } from '../cache.js';
import { Clock, COST } from '../clock.js';
import { isFault } from '../isa.js';

export type DmaStatus = 'ok' | 'fault' | 'abort';

/** The IOMMU as the root complex sees it: one page's translation or a recorded fault. */
export interface DmaRemapper {
  /** Host physical address of `iova` (KeyID bits included), or null after recording a fault. */
  translate(sid: number, iova: number, write: boolean): number | null;
}

const PAGE = 4096;

export class DmaPort {
  /** Bytes moved by DMA, for the bench and `stat`. */
  bytes = 0;

  constructor(
    private readonly caches: CacheSystem,
    private readonly clock: Clock,
    private readonly maxPhysAddr: number,
    /** Package whose cache the root complex uses. */
    private readonly pkg = 0,
    public remapper: DmaRemapper | null = null,
  ) {}

  read(sid: number, addr: number, dst: Uint8Array): DmaStatus { return this.move(sid, addr, dst, false); }
  write(sid: number, addr: number, src: Uint8Array): DmaStatus { return this.move(sid, addr, src, true); }

  private move(sid: number, addr: number, buf: Uint8Array, write: boolean): DmaStatus {
    if (!Number.isSafeInteger(addr) || addr < 0) return 'abort';
    let done = 0;
    while (done < buf.length) {
      const at = addr + done;
      const n = Math.min(buf.length - done, PAGE - (at % PAGE));
      let pa = at;
      if (this.remapper) {
        const page = this.remapper.translate(sid, at - (at % PAGE), write);
        if (page === null) return 'fault';
        pa = page + (at % PAGE);
      }
      if (pa + n > 2 ** this.maxPhysAddr) return 'abort';
      if (!this.copy(pa, buf, done, n, write)) return 'abort';
      done += n;
    }
    this.bytes += buf.length;
    return 'ok';
  }

  /** Move bytes through the root complex's cache (CacheSystem.copy). False on a hole (#MC). */
  private copy(pa: number, buf: Uint8Array, bufOff: number, len: number, write: boolean): boolean {
    try {
      this.caches.copy(this.pkg, pa, buf, bufOff, len, write);
    } catch (e) {
      if (isFault(e)) return false;
      throw e;
    }
    this.clock.tick(COST.insn);
    return true;
  }
}
