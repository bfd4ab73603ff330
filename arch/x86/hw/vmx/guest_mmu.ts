/**
 * The memory side of a virtual CPU (SDM Vol. 3C §29.3, "EPT"; §29.4, cached
 * translations): guest control registers, the two-dimensional walk and the guest's data
 * accesses. vcpu.ts builds the rest of the vCPU (entry, exits, instructions) on it.
 *
 * A guest-linear address goes through the guest's IA paging (guest CR0/CR3, a walk in
 * guest-physical space: mmu.ts's walk with this class as its port) and every
 * guest-physical address, guest table pointers included, through EPT (ept.ts). Guest
 * PTEs carry no KeyID; bits that are KeyID bits on the host are GPA bits here. Combined
 * translations are cached in a TLB per (VPID, EPT root) on the physical CPU: the
 * guest's INVLPG and CR3 loads drop guest-linear entries, INVEPT drops the EPT root's.
 *
 * Every access translates all its pages before any data moves. An EPT violation or
 * misconfiguration is a VM exit; the host either fixes EPT (the access is retried) or
 * emulates the access through vmxPendingAccess (MMIO: the access retires without
 * touching memory).
 */
import {
  EPT_VIOLATION_GVA_IS_VALID, EPT_VIOLATION_GVA_TRANSLATED, EXIT_REASON_EPT_VIOLATION, Fault,
  SECONDARY_EXEC_ENABLE_EPT, X86_CR0_WP, X86_TRAP_GP, X86_TRAP_PF, type PconfigResult, type VmxPendingAccess,
  type X86Cpu,
} from '../isa.js';
import { accessAllowed, walk, type Access, type WalkPort } from '../mmu.js';
import { TLB_DIRTY, TLB_EPT_R, TLB_EPT_W, TLB_EPT_X, TLB_NX, TLB_USER, TLB_WRITE, type Tlb } from '../tlb.js';
import { EptExit, eptWalk } from './ept.js';
import type { PhysPort } from './vmcs.js';
import { ControlRegisters } from '../cr.js';

const PAGE = 4096;
const LINE = 64;
const LINEAR_LIMIT = 2 ** 48;
/** The same EPT exit this many times running, with the host neither fixing EPT nor
 *  emulating the access, would hang the machine; the guest is shut down instead. */
const EPT_EXIT_WATCHDOG = 64;

/** What a vCPU needs from the physical CPU it runs on. */
export interface HostCpu extends X86Cpu, PhysPort {
  readonly index: number;
  cpl: 0 | 3;
  loadHostCr3(cr3: number): void;
  physCopy(pa: number, buf: Uint8Array, bufOff: number, len: number, write: boolean): void;
  clflushPhys(pa: number): void;
  wbinvdPhys(): void;
  msrRead(msr: number): bigint;
  msrWrite(msr: number, value: bigint): void;
  pconfigWith(leaf: number, rbx: number, cpl: 0 | 3, readLinear: (va: number, len: number) => Uint8Array): PconfigResult;
  tick(cycles: number): void;
  rdtsc(): number;
}

export class PendingAccess implements VmxPendingAccess {
  done = false;
  result: Uint8Array | null = null;
  constructor(readonly gpa: number, readonly gla: number, readonly size: number,
    readonly write: boolean, readonly data: Uint8Array) {}
  complete(readData?: Uint8Array): void {
    this.done = true;
    if (readData) this.result = readData;
  }
}

export abstract class GuestMmu extends ControlRegisters implements WalkPort {
  /** The access an EPT exit interrupted (for the host's emulation), else null. */
  pending: PendingAccess | null = null;
  protected host: HostCpu | null = null;
  protected secondary = 0;
  protected eptp = 0;
  protected tlb: Tlb | null = null;
  private walkFinal = true;
  private finalPerms = 7;

  /** Throws unless the vCPU is running (VMX non-root) and alive. */
  protected abstract alive(): void;
  protected abstract shutdown(why: string): never;
  /** A VM exit in the middle of the current instruction. */
  protected abstract exit(reason: number, qual: number, gpa: number, gla: number): void;

  /** The instructions of cr.ts, and every other privileged one, only while the vCPU runs. */
  protected override privileged(): void {
    this.alive();
    super.privileged();
  }

  // --- control registers (cr.ts): the guest's, over the combined TLB -------------------

  protected currentTlb(): Tlb { return this.tlb!; }

  // --- translation: guest paging, then EPT ---------------------------------------------

  phys32(pa: number): number { return this.host!.phys32(pa); }
  phys64(pa: number, out: Uint32Array): void { this.host!.phys64(pa, out); }
  physStore32(pa: number, v: number): void { this.host!.physStore32(pa, v); }

  stage2(gpa: number, access: Access, final: boolean): number {
    this.walkFinal = final;
    if (!(this.secondary & SECONDARY_EXEC_ENABLE_EPT)) { if (final) this.finalPerms = 7; return gpa; }
    this.host!.tick(16);
    const t = eptWalk(this.host!, this.eptp, gpa, access, !final, this.cfg.cpu.maxPhysAddr);
    if (final) this.finalPerms = t.perms;
    return t.hpa + ((gpa >>> 0) & (PAGE - 1)); // gpa % PAGE, exact
  }

  /** One translation attempt; throws #GP/#PF (guest faults) or EptExit. */
  protected translateOnce(va: number, access: Access): number {
    if (!Number.isSafeInteger(va) || va < 0 || va >= LINEAR_LIMIT) {
      throw new Fault(X86_TRAP_GP, 0, 0, 'non-canonical address');
    }
    const off = (va >>> 0) & (PAGE - 1); // va % PAGE, exact: 4096 divides 2^32
    const vpn = (va - off) / PAGE;
    const tlb = this.tlb!;
    const paging = this.paging;
    const user = this.cpl === 3;
    const wp = (this.cr0 & X86_CR0_WP) !== 0;
    const slot = tlb.lookup(vpn);
    if (slot >= 0) {
      const f = tlb.flagsOf(slot);
      const ok = access === 'w' ? (f & TLB_DIRTY) && (f & TLB_EPT_W) : access === 'x' ? f & TLB_EPT_X : f & TLB_EPT_R;
      if (ok) {
        if (paging) {
          if (!accessAllowed(access, user, wp, (f & TLB_USER) !== 0, (f & TLB_WRITE) !== 0, (f & TLB_NX) !== 0)) {
            throw this.pageFault(va, access, true);
          }
        }
        return tlb.physPage(slot) + off;
      }
    }
    let physPage: number;
    let flags: number;
    let pageSize = PAGE;
    if (!paging) {
      if (va >= 2 ** this.cfg.cpu.maxPhysAddr) throw new Fault(X86_TRAP_GP, 0, 0, 'beyond MAXPHYADDR');
      physPage = this.stage2(va - off, access, true);
      flags = TLB_USER | TLB_WRITE;
    } else {
      try {
        const t = walk(this, this.cr3, va, access, user, wp, this.cfg.cpu.maxPhysAddr, tlb.pde);
        physPage = t.physPage;
        flags = t.flags & ~TLB_DIRTY;
        pageSize = t.pageSize;
      } catch (e) {
        if (e instanceof Fault && e.vector === X86_TRAP_PF) this.cr2 = va;
        throw e;
      }
    }
    const p = this.finalPerms;
    flags |= (p & 1 ? TLB_EPT_R : 0) | (p & 2 ? TLB_EPT_W : 0) | (p & 4 ? TLB_EPT_X : 0) | (access === 'w' ? TLB_DIRTY : 0);
    tlb.insert(vpn, physPage, flags, pageSize);
    return physPage + off;
  }

  /**
   * Translate the piece [va, va+n) of an access, taking EPT exits until it translates or
   * the host emulates it. Returns the host-physical address, or -1 if the host completed
   * the access itself (then a read's bytes are already in buf).
   */
  protected xlate(va: number, access: Access, buf: Uint8Array, off: number, n: number): number {
    for (let tries = 0; ; tries++) {
      try {
        return this.translateOnce(va, access);
      } catch (e) {
        if (!(e instanceof EptExit)) throw e;
        if (tries >= EPT_EXIT_WATCHDOG) this.shutdown(`EPT exit at GPA 0x${e.gpa.toString(16)} not resolved`);
        // Violations report the linear address (bit 7) and whether the failing access was
        // the final one (bit 8) or a guest paging-structure read; misconfigurations have
        // no qualification. The GPA is the one accessed: the final address with its page
        // offset, or the guest paging-structure entry's.
        const violation = e.reason === EXIT_REASON_EPT_VIOLATION;
        const qual = violation ? e.qual | EPT_VIOLATION_GVA_IS_VALID | (this.walkFinal ? EPT_VIOLATION_GVA_TRANSLATED : 0) : 0;
        const gpa = this.walkFinal ? e.gpa - ((e.gpa >>> 0) & (PAGE - 1)) + ((va >>> 0) & (PAGE - 1)) : e.gpa;
        const pending = new PendingAccess(gpa, va, n, access === 'w',
          access === 'w' ? buf.slice(off, off + n) : new Uint8Array(n));
        this.pending = pending;
        try {
          this.exit(e.reason, qual, gpa, violation ? va : 0);
        } finally { this.pending = null; }
        if (pending.done) {
          if (access !== 'w' && pending.result) buf.set(pending.result.subarray(0, n), off);
          return -1;
        }
      }
    }
  }

  /** Translate every page piece of [va, va+len) before any data moves. */
  protected pieces(va: number, len: number, access: Access, buf: Uint8Array): number[] {
    this.alive();
    if (!Number.isSafeInteger(len) || len < 0) throw new Fault(X86_TRAP_GP, 0, 0, 'bad length');
    const out: number[] = [];
    let done = 0;
    while (done < len) {
      const at = va + done;
      const n = Math.min(len - done, PAGE - ((at >>> 0) & (PAGE - 1)));
      out.push(this.xlate(at, access, buf, done, n), n);
      done += n;
    }
    return out;
  }

  protected copy(va: number, buf: Uint8Array, access: Access): void {
    const p = this.pieces(va, buf.length, access, buf);
    for (let i = 0, o = 0; i < p.length; i += 2) {
      if (p[i] >= 0) this.host!.physCopy(p[i], buf, o, p[i + 1], access === 'w');
      o += p[i + 1];
    }
  }

  // --- data access -----------------------------------------------------------------------

  read(va: number, dst: Uint8Array): void { this.copy(va, dst, 'r'); }
  write(va: number, src: Uint8Array): void { this.copy(va, src, 'w'); }
  fetch(va: number, len: number): Uint8Array { const b = new Uint8Array(len); this.copy(va, b, 'x'); return b; }
  fill(va: number, byte: number, len: number): void {
    if (!Number.isSafeInteger(len) || len < 0) throw new Fault(X86_TRAP_GP, 0, 0, 'bad length');
    this.copy(va, new Uint8Array(len).fill(byte & 0xff), 'w');
  }
  load8(va: number): number { const b = new Uint8Array(1); this.read(va, b); return b[0]; }
  store8(va: number, v: number): void { this.write(va, Uint8Array.of(v & 0xff)); }
  load32(va: number): number { const b = new Uint8Array(4); this.read(va, b); return new DataView(b.buffer).getUint32(0, true); }
  store32(va: number, v: number): void {
    const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, v >>> 0, true); this.write(va, b);
  }
  load64(va: number): bigint { const b = new Uint8Array(8); this.read(va, b); return new DataView(b.buffer).getBigUint64(0, true); }
  store64(va: number, v: bigint): void {
    const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), true); this.write(va, b);
  }

  clflush(va: number): void {
    const b = new Uint8Array(0);
    this.alive();
    const pa = this.xlate(va, 'r', b, 0, 0);
    if (pa >= 0) this.host!.clflushPhys(pa - ((pa >>> 0) & (LINE - 1)));
  }
}
