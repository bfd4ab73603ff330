/**
 * A VT-d DMA-remapping hardware unit (one DRHD), legacy translation mode, register-
 * based invalidation (no queued invalidation: ECAP.QI = 0, so a driver uses CCMD and
 * IOTLB_REG, as Linux's __iommu_flush_context / __iommu_flush_iotlb do).
 *
 *   GCMD.SRTP latches RTADDR (GSTS.RTPS); GCMD.TE turns translation on (GSTS.TES).
 *   CCMD: context-cache invalidation, global / domain (DID) / device (SID).
 *   IVA + IOTLB_REG: IOTLB invalidation, global / domain / page-selective (address
 *     and address mask AM: 2^AM pages).
 *   Faults: recorded in NUM_FRCD fault recording registers (source id, page address,
 *     reason, read/write), FSTS.PPF while any is pending, FSTS.PFO on overflow. The
 *     notification is FECTL.IP (interrupt pending): this board has no interrupt
 *     controller yet, so the kernel's fault handler runs when it sees IP/PPF, which
 *     it checks after each request it submits (a polled interrupt line).
 *
 * Caches that software must invalidate, and that stay stale until it does:
 *   - the context cache (decoded context entries by source id),
 *   - the IOTLB: translations by (domain id, page), FIFO-replaced, 4 KiB sub-pages
 *     of a large page remembered with their page size, so a page-selective
 *     invalidation of any address in a large page drops the whole page.
 * A DMA through a stale IOTLB entry after the kernel cleared the PTE still reaches
 * the old page: the reason drivers invalidate before they free (EvictPage's order).
 */
import type { CacheSystem } from '../cache.js';
import { LINE } from '../engine.js';
import { isFault } from '../isa.js';
import type { DmaRemapper } from '../pci/dma.js';
import type { MmioRegion } from '../pci/mmio.js';
import * as R from './regs.js';
import { lookupContext, walkSecondLevel, type ContextEntry, type Entry, type TableReader } from './walk.js';

export const VTD_REG_BASE = 0xfed9_0000;
export const VTD_REG_SIZE = 0x1000;
const IOTLB_ENTRIES = 128;
const PAGE = 4096;
/** An IOTLB entry's key: domain and page (the page number is below 2^36, MGAW 48: exact). */
function iotlbKey(did: number, vpn: number): number { return did * 2 ** 36 + vpn; }

interface TlbEntry { did: number; vpn: number; hpaPage: number; read: boolean; write: boolean; pageSize: number }

export interface FaultRecord { sid: number; addr: number; reason: number; read: boolean }

export class VtdUnit implements DmaRemapper, TableReader {
  readonly region: MmioRegion;
  private gsts = 0;
  private rtaddr = 0;
  private rtaddrLatched = 0;
  private ccmd: Entry = { lo: 0, hi: 0 };
  private iva: Entry = { lo: 0, hi: 0 };
  private iotlbReg: Entry = { lo: 0, hi: 0 };
  private fsts = 0;
  private fectl = R.DMA_FECTL_IM;
  private fedata = 0;
  private feaddr = 0;
  private feuaddr = 0;
  private readonly frcd: (FaultRecord | null)[] = new Array(R.NUM_FRCD).fill(null);
  private fri = 0;
  private readonly contextCache = new Map<number, ContextEntry>();
  /** By iotlbKey(did, vpn). */
  private readonly iotlb = new Map<number, TlbEntry>();
  /** Statistics for tests and `stat`. */
  stats = { walks: 0, iotlbHits: 0, faults: 0, interrupts: 0 };
  /** The fault-event message (FEADDR/FEDATA) goes here when unmasked; null: none wired. */
  onFaultEvent: ((addr: number, data: number) => void) | null = null;

  constructor(
    private readonly caches: CacheSystem,
    private readonly haw: number,
    private readonly pkg = 0,
    base = VTD_REG_BASE,
  ) {
    this.region = {
      name: 'dmar0', base, size: VTD_REG_SIZE,
      read32: (off) => this.read32(off),
      write32: (off, v) => this.write32(off, v),
    };
  }

  reset(): void {
    this.gsts = this.rtaddr = this.rtaddrLatched = this.fsts = this.fri = 0;
    this.fectl = R.DMA_FECTL_IM;
    this.fedata = this.feaddr = this.feuaddr = 0;
    this.ccmd = { lo: 0, hi: 0 }; this.iva = { lo: 0, hi: 0 }; this.iotlbReg = { lo: 0, hi: 0 };
    this.frcd.fill(null);
    this.contextCache.clear();
    this.iotlb.clear();
    this.stats = { walks: 0, iotlbHits: 0, faults: 0, interrupts: 0 };
  }

  // --- capability values -----------------------------------------------------------

  static readonly CAP: Entry = {
    lo: (R.CAP_ND | (R.SAGAW_48 << 8) | ((R.MGAW - 1) << 16) | (((R.FRCD_OFFSET / 16) & 0xff) << 24)) >>> 0,
    hi: ((((R.FRCD_OFFSET / 16) >>> 8) & 3) | ((R.CAP_SLLPS_2M | R.CAP_SLLPS_1G) << 2) | (1 << 7) |
      ((R.NUM_FRCD - 1) << 8) | (R.CAP_MAMV << 16) | (1 << 22) | (1 << 23)) >>> 0,
  };
  /** ECAP: C (coherent walks), PT (pass-through), IRO. */
  static readonly ECAP: Entry = { lo: (1 | (1 << 6) | ((R.IOTLB_OFFSET / 16) << 8)) >>> 0, hi: 0 };

  get translationEnabled(): boolean { return (this.gsts & R.DMA_GSTS_TES) !== 0; }

  // --- registers ---------------------------------------------------------------------

  private read32(off: number): number {
    switch (off) {
      case R.DMAR_VER_REG: return 0x10;
      case R.DMAR_CAP_REG: return VtdUnit.CAP.lo;
      case R.DMAR_CAP_REG + 4: return VtdUnit.CAP.hi;
      case R.DMAR_ECAP_REG: return VtdUnit.ECAP.lo;
      case R.DMAR_ECAP_REG + 4: return VtdUnit.ECAP.hi;
      case R.DMAR_GSTS_REG: return this.gsts;
      case R.DMAR_RTADDR_REG: return this.rtaddr % 2 ** 32;
      case R.DMAR_RTADDR_REG + 4: return Math.floor(this.rtaddr / 2 ** 32);
      case R.DMAR_CCMD_REG: return this.ccmd.lo;
      case R.DMAR_CCMD_REG + 4: return this.ccmd.hi;
      case R.DMAR_FSTS_REG: return this.fstsValue();
      case R.DMAR_FECTL_REG: return this.fectl;
      case R.DMAR_FEDATA_REG: return this.fedata;
      case R.DMAR_FEADDR_REG: return this.feaddr;
      case R.DMAR_FEUADDR_REG: return this.feuaddr;
      case R.IOTLB_OFFSET: return this.iva.lo;
      case R.IOTLB_OFFSET + 4: return this.iva.hi;
      case R.IOTLB_OFFSET + 8: return this.iotlbReg.lo;
      case R.IOTLB_OFFSET + 12: return this.iotlbReg.hi;
      default: break;
    }
    if (off >= R.FRCD_OFFSET && off < R.FRCD_OFFSET + R.NUM_FRCD * 16) {
      const f = this.frcd[Math.floor((off - R.FRCD_OFFSET) / 16)];
      if (!f) return 0;
      switch (off % 16) {
        case 0: return (f.addr % 2 ** 32) & ~0xfff;
        case 4: return Math.floor(f.addr / 2 ** 32);
        case 8: return f.sid;
        default: return (R.DMA_FRCD_F | (f.read ? R.DMA_FRCD_T : 0) | f.reason) >>> 0;
      }
    }
    return 0;
  }

  private write32(off: number, v: number): void {
    switch (off) {
      case R.DMAR_GCMD_REG: this.command(v); return;
      case R.DMAR_RTADDR_REG: this.rtaddr = Math.floor(this.rtaddr / 2 ** 32) * 2 ** 32 + (v >>> 12) * 4096; return;
      case R.DMAR_RTADDR_REG + 4: this.rtaddr = (v >>> 0) * 2 ** 32 + this.rtaddr % 2 ** 32; return;
      case R.DMAR_CCMD_REG: this.ccmd.lo = v; return;
      case R.DMAR_CCMD_REG + 4: this.ccmd.hi = v; if (v & R.DMA_CCMD_ICC_HI) this.contextInvalidate(); return;
      case R.IOTLB_OFFSET: this.iva.lo = v; return;
      case R.IOTLB_OFFSET + 4: this.iva.hi = v; return;
      case R.IOTLB_OFFSET + 8: this.iotlbReg.lo = v; return;
      case R.IOTLB_OFFSET + 12: this.iotlbReg.hi = v; if (v & R.DMA_TLB_IVT_HI) this.iotlbInvalidate(); return;
      case R.DMAR_FSTS_REG: if (v & R.DMA_FSTS_PFO) this.fsts &= ~R.DMA_FSTS_PFO; return;
      case R.DMAR_FECTL_REG: this.setFectl(v); return;
      case R.DMAR_FEDATA_REG: this.fedata = v; return;
      case R.DMAR_FEADDR_REG: this.feaddr = v; return;
      case R.DMAR_FEUADDR_REG: this.feuaddr = v; return;
      default: break;
    }
    if (off >= R.FRCD_OFFSET && off < R.FRCD_OFFSET + R.NUM_FRCD * 16 && off % 16 === 12 && (v & R.DMA_FRCD_F)) {
      this.frcd[Math.floor((off - R.FRCD_OFFSET) / 16)] = null; // F is RW1C
    }
  }

  private command(v: number): void {
    if (v & R.DMA_GCMD_SRTP) {
      this.rtaddrLatched = this.rtaddr;
      this.gsts |= R.DMA_GSTS_RTPS;
    }
    if (v & R.DMA_GCMD_TE) this.gsts |= R.DMA_GSTS_TES;
    else this.gsts &= ~R.DMA_GSTS_TES;
    this.gsts >>>= 0;
  }

  private contextInvalidate(): void {
    const g = (this.ccmd.hi >>> R.DMA_CCMD_CIRG_SHIFT_HI) & 3;
    const did = this.ccmd.lo & 0xffff;
    const sid = (this.ccmd.lo >>> 16) & 0xffff;
    if (g === R.CCMD_GLOBAL) this.contextCache.clear();
    else if (g === R.CCMD_DOMAIN) { for (const [k, c] of this.contextCache) if (c.did === did) this.contextCache.delete(k); }
    else if (g === R.CCMD_DEVICE) this.contextCache.delete(sid);
    // Done: ICC clear, CAIG = the granularity performed.
    this.ccmd.hi = ((this.ccmd.hi & ~(R.DMA_CCMD_ICC_HI | (3 << R.DMA_CCMD_CAIG_SHIFT_HI))) |
      (g << R.DMA_CCMD_CAIG_SHIFT_HI)) >>> 0;
  }

  private iotlbInvalidate(): void {
    const g = (this.iotlbReg.hi >>> R.DMA_TLB_IIRG_SHIFT_HI) & 3;
    const did = (this.iotlbReg.hi >>> R.DMA_TLB_DID_SHIFT_HI) & 0xffff;
    let done = g;
    if (g === R.TLB_GLOBAL) this.iotlb.clear();
    else if (g === R.TLB_DOMAIN) this.dropIotlb((e) => e.did === did);
    else if (g === R.TLB_PAGE) {
      const am = this.iva.lo & 0x3f;
      if (am > R.CAP_MAMV) done = R.TLB_DOMAIN; // hardware may widen; it reports what it did
      const base = Math.floor(((this.iva.lo >>> 12) + (this.iva.hi >>> 0) * 2 ** 20) / 2 ** am) * 2 ** am;
      const end = base + 2 ** am;
      this.dropIotlb((e) => {
        if (e.did !== did) return false;
        if (done === R.TLB_DOMAIN) return true;
        const span = e.pageSize / PAGE;
        const first = Math.floor(e.vpn / span) * span;
        return first < end && first + span > base;
      });
    }
    this.iotlbReg.hi = ((this.iotlbReg.hi & ~(R.DMA_TLB_IVT_HI | (3 << R.DMA_TLB_IAIG_SHIFT_HI))) |
      (done << R.DMA_TLB_IAIG_SHIFT_HI)) >>> 0;
  }

  private dropIotlb(pred: (e: TlbEntry) => boolean): void {
    for (const [k, e] of this.iotlb) if (pred(e)) this.iotlb.delete(k);
  }

  private fstsValue(): number {
    // FRI: the oldest pending record (the first one at or after the write pointer).
    let oldest = 0;
    for (let k = 0; k < R.NUM_FRCD; k++) {
      const i = (this.fri + k) % R.NUM_FRCD;
      if (this.frcd[i]) { oldest = i; break; }
    }
    const ppf = this.frcd.some((f) => f !== null) ? R.DMA_FSTS_PPF : 0;
    return (this.fsts | ppf | (oldest << 8)) >>> 0;
  }

  private setFectl(v: number): void {
    const wasMasked = (this.fectl & R.DMA_FECTL_IM) !== 0;
    this.fectl = ((this.fectl & R.DMA_FECTL_IP) | (v & R.DMA_FECTL_IM)) >>> 0;
    if (wasMasked && !(v & R.DMA_FECTL_IM) && (this.fectl & R.DMA_FECTL_IP)) this.sendFaultEvent();
  }

  /** The fault event: a message to FEADDR/FEDATA if wired and unmasked; IP otherwise. */
  private sendFaultEvent(): void {
    if (this.fectl & R.DMA_FECTL_IM || !this.onFaultEvent) {
      this.fectl = (this.fectl | R.DMA_FECTL_IP) >>> 0;
      return;
    }
    this.fectl = (this.fectl & ~R.DMA_FECTL_IP) >>> 0;
    this.stats.interrupts++;
    this.onFaultEvent(this.feaddr, this.fedata);
  }

  private recordFault(f: FaultRecord): void {
    this.stats.faults++;
    if (this.fsts & R.DMA_FSTS_PFO) return;
    if (this.frcd[this.fri]) { this.fsts |= R.DMA_FSTS_PFO; return; } // overflow: dropped
    const hadPending = this.frcd.some((x) => x !== null);
    this.frcd[this.fri] = f;
    this.fri = (this.fri + 1) % R.NUM_FRCD;
    if (!hadPending) this.sendFaultEvent();
  }

  /** What has been recorded and not cleared (for tests; software reads the registers). */
  pendingFaults(): FaultRecord[] { return this.frcd.filter((f): f is FaultRecord => f !== null); }

  // --- translation -------------------------------------------------------------------

  /** TableReader: an 8-byte read through the coherent path; null on a hole. */
  read64(pa: number): Entry | null {
    if (!Number.isSafeInteger(pa) || pa < 0 || pa >= 2 ** this.haw || pa % 8) return null;
    try {
      const base = pa - (pa % LINE);
      const off = this.caches.line(this.pkg, base, false) + (pa % LINE);
      const d = this.caches.dataOf(this.pkg);
      return {
        lo: (d[off] | (d[off + 1] << 8) | (d[off + 2] << 16) | (d[off + 3] << 24)) >>> 0,
        hi: (d[off + 4] | (d[off + 5] << 8) | (d[off + 6] << 16) | (d[off + 7] << 24)) >>> 0,
      };
    } catch (e) {
      if (isFault(e)) return null;
      throw e;
    }
  }

  private context(sid: number, iova: number, write: boolean): ContextEntry | null {
    const cached = this.contextCache.get(sid);
    if (cached) return cached;
    const c = lookupContext(this, this.rtaddrLatched, sid, this.haw);
    if (!c.ok) {
      if (!c.fpd) this.recordFault({ sid, addr: iova, reason: c.reason, read: !write });
      return null;
    }
    this.contextCache.set(sid, c.ctx);
    return c.ctx;
  }

  translate(sid: number, iova: number, write: boolean): number | null {
    if (!this.translationEnabled) return iova;
    const ctx = this.context(sid, iova, write);
    if (!ctx) return null;
    if (ctx.tt === R.CONTEXT_TT_PASS_THROUGH) return iova;
    const vpn = iova / PAGE;
    const key = iotlbKey(ctx.did, vpn);
    const hit = this.iotlb.get(key);
    if (hit && (write ? hit.write : hit.read)) { this.stats.iotlbHits++; return hit.hpaPage; }
    this.stats.walks++;
    const w = walkSecondLevel(this, ctx.slptptr, iova, write, this.haw, { m2: true, g1: true });
    if (!w.ok) {
      if (!ctx.fpd) this.recordFault({ sid, addr: iova, reason: w.reason, read: !write });
      return null;
    }
    if (this.iotlb.size >= IOTLB_ENTRIES) this.iotlb.delete(this.iotlb.keys().next().value as number);
    this.iotlb.set(key, { did: ctx.did, vpn, hpaPage: w.hpa, read: w.read, write: w.write, pageSize: w.pageSize });
    return w.hpa;
  }

  /** IOTLB entries held (tests). */
  iotlbSize(): number { return this.iotlb.size; }
}
