/**
 * A logical CPU: the instruction surface of isa.ts, implemented over its package's
 * MSRs, engine and cache, its own TLB and control registers.
 *
 * Memory instructions translate every page they touch before they store anything, so
 * a faulting instruction changes no data. Loads and stores then work on cache lines:
 * registers and caches hold plaintext, the engine below them sees every line that
 * moves to or from memory.
 */
import type { MachineConfig } from './config.js';
import { Clock, COST } from './clock.js';
import type { Counters } from './counters.js';
import { cpuid as cpuidLeaf } from './cpuid.js';
import type { CacheSystem } from './cache.js';
import { LINE } from './engine.js';
import {
  Fault, X86_CR0_WP, X86_TRAP_GP, X86_TRAP_PF, X86_TRAP_UD, type CpuidRegs, type PconfigResult, type X86Cpu,
} from './isa.js';
import { accessAllowed, walk, type Access, type WalkPort } from './mmu.js';
import { readMsr, writeMsr } from './msr.js';
import type { Package } from './package.js';
import { pconfig as pconfigLeaf } from './pconfig.js';
import { Tlb, TLB_DIRTY, TLB_NX, TLB_USER, TLB_WRITE } from './tlb.js';
import type { MmioPort } from './pci/mmio.js';
import type { CodeAddr, GuestRegs, Routine, VmxPendingAccess } from './isa.js';
import { eptRoot } from './vmx/ept.js';
import { vmxMsr } from './vmx/msrs.js';
import { VmxPlatform } from './vmx/platform.js';
import { HOST_DOMAIN } from './vmx/text.js';
import type { HostCpu } from './vmx/vcpu.js';
import { VmxUnit } from './vmx/vmx.js';
import { ControlRegisters } from './cr.js';

const PAGE = 4096;
const LINEAR_LIMIT = 2 ** 48;

export class Cpu extends ControlRegisters implements X86Cpu, WalkPort, HostCpu {
  readonly tlb: Tlb;
  /** The PCI hole's devices: aligned 32-bit loads/stores there are uncached MMIO. */
  mmio: MmioPort | null = null;
  private readonly data: Uint8Array;
  private readonly bytes8 = new Uint8Array(8);
  /** REP STOSB's source, reused: clearing a page is the kernel's commonest store. */
  private readonly fillChunk = new Uint8Array(PAGE);

  constructor(
    readonly index: number,
    readonly pkg: Package,
    readonly thread: number,
    cfg: MachineConfig,
    private readonly caches: CacheSystem,
    private readonly clock: Clock,
    private readonly counters: Counters,
    private readonly platform: VmxPlatform = new VmxPlatform(),
  ) {
    super(cfg);
    this.tlb = new Tlb(cfg.tlbEntries);
    this.data = caches.dataOf(pkg.index);
    this.vmx = new VmxUnit(this, platform, cfg);
  }

  /** Reset: real mode's successor here is flat, paging off, CPL 0. */
  reset(): void {
    this.cpl = 0;
    this.cr0 = this.cr2 = this.cr3 = 0;
    this.tlb.flush(false);
    this.vmx.reset();
  }

  // --- identification, MSRs, PCONFIG ---------------------------------------------

  cpuid(leaf: number, subleaf = 0): CpuidRegs {
    this.clock.tick(COST.insn * 20);
    return cpuidLeaf(this.cfg, this.pkg.index, this.thread, leaf >>> 0, subleaf >>> 0);
  }

  rdmsr(msr: number): bigint {
    this.privileged();
    return this.msrRead(msr);
  }

  wrmsr(msr: number, value: bigint): void {
    this.privileged();
    this.msrWrite(msr, value);
  }

  /** The MSR itself (no CPL check): also what a guest reaches through the MSR bitmap. */
  msrRead(msr: number): bigint {
    this.clock.tick(COST.msr);
    return vmxMsr(msr) ?? readMsr(this.cfg, this.pkg, msr, this.clock.cycles);
  }

  msrWrite(msr: number, value: bigint): void {
    this.clock.tick(COST.msr);
    if (vmxMsr(msr) !== null) throw new Fault(X86_TRAP_GP, 0, 0, `wrmsr 0x${msr.toString(16)}: read-only VMX MSR`);
    writeMsr(this.cfg, this.pkg, msr, value);
  }

  pconfig(leaf: number, rbx: number): PconfigResult {
    return this.pconfigWith(leaf, rbx, this.cpl, (va, len) => { const b = new Uint8Array(len); this.read(va, b); return b; });
  }

  /** PCONFIG with its structure read through `readLinear` (a vCPU passes its own MMU). */
  pconfigWith(leaf: number, rbx: number, cpl: 0 | 3, readLinear: (va: number, len: number) => Uint8Array): PconfigResult {
    this.clock.tick(COST.pconfig);
    try {
      const r = pconfigLeaf({ cfg: this.cfg, pkg: this.pkg, cpl, cpu: this.index, readLinear }, leaf, rbx);
      this.counters.pconfigByResult.set(r.rax, (this.counters.pconfigByResult.get(r.rax) ?? 0) + 1);
      return r;
    } catch (e) {
      this.counters.pconfigFaults++;
      throw e;
    }
  }

  rdtsc(): number { return this.clock.cycles; }

  // --- control registers (cr.ts) and translation -----------------------------------

  protected currentTlb(): Tlb { return this.tlb; }

  /** Physical address of linear `va` for `access`; #GP if non-canonical, #PF on a walk failure. */
  translate(va: number, access: Access): number {
    if (!Number.isSafeInteger(va) || va < 0 || va >= LINEAR_LIMIT) {
      throw new Fault(X86_TRAP_GP, 0, 0, 'non-canonical address');
    }
    const off = (va >>> 0) & (PAGE - 1); // va % PAGE (4096 divides 2^32: no floating-point remainder)
    if (!this.paging) {
      if (va >= 2 ** this.cfg.cpu.maxPhysAddr) throw new Fault(X86_TRAP_GP, 0, 0, 'beyond MAXPHYADDR');
      return va;
    }
    const vpn = (va - off) / PAGE;
    const user = this.cpl === 3;
    const wp = (this.cr0 & X86_CR0_WP) !== 0;
    const slot = this.tlb.lookup(vpn);
    if (slot >= 0) {
      const f = this.tlb.flagsOf(slot);
      // A write through a clean TLB entry re-walks so the walk can set D.
      if (!(access === 'w' && !(f & TLB_DIRTY))) {
        this.counters.tlbHits++;
        if (!accessAllowed(access, user, wp, (f & TLB_USER) !== 0, (f & TLB_WRITE) !== 0, (f & TLB_NX) !== 0)) {
          throw this.pageFault(va, access, true);
        }
        return this.tlb.physPage(slot) + off;
      }
    }
    this.counters.tlbMisses++;
    try {
      const t = walk(this, this.cr3, va, access, user, wp, this.cfg.cpu.maxPhysAddr, this.tlb.pde);
      this.clock.tick(COST.walkLevel * t.levels);
      this.tlb.insert(vpn, t.physPage, t.flags, t.pageSize);
      return t.physPage + off;
    } catch (e) {
      this.clock.tick(COST.walkLevel * 4); // a walk that faults is charged as a whole one
      if (e instanceof Fault && e.vector === X86_TRAP_PF) this.cr2 = va;
      throw e;
    }
  }

  /** WalkPort: physical accesses made by the page walker. */
  phys64(pa: number, out: Uint32Array): void {
    const inLine = (pa >>> 0) & (LINE - 1); // pa % LINE, exact (see physCopy); an entry is 8-aligned
    const off = this.caches.line(this.pkg.index, pa - inLine, false) + inLine;
    this.caches.rehit(this.pkg.index);
    const d = this.data;
    out[0] = d[off] | (d[off + 1] << 8) | (d[off + 2] << 16) | (d[off + 3] << 24);
    out[1] = d[off + 4] | (d[off + 5] << 8) | (d[off + 6] << 16) | (d[off + 7] << 24);
  }
  phys32(pa: number): number {
    const inLine = (pa >>> 0) & (LINE - 1); // pa % LINE, exact (see physCopy)
    const off = this.caches.line(this.pkg.index, pa - inLine, false) + inLine;
    const d = this.data;
    return (d[off] | (d[off + 1] << 8) | (d[off + 2] << 16) | (d[off + 3] << 24)) >>> 0;
  }
  physStore32(pa: number, value: number): void {
    const inLine = (pa >>> 0) & (LINE - 1);
    const off = this.caches.line(this.pkg.index, pa - inLine, true) + inLine;
    const d = this.data;
    d[off] = value & 0xff; d[off + 1] = (value >>> 8) & 0xff;
    d[off + 2] = (value >>> 16) & 0xff; d[off + 3] = value >>> 24;
  }
  stage2(gpa: number, _access: Access, _final: boolean): number { return gpa; }

  /**
   * Translate [va, va+len) for `access`, page by page, before any data moves.
   * Returns the physical address of each piece and its length.
   */
  private pieces(va: number, len: number, access: Access): number[] {
    if (!Number.isSafeInteger(len) || len < 0) throw new Fault(X86_TRAP_GP, 0, 0, 'bad length');
    const out: number[] = [];
    let done = 0;
    while (done < len) {
      const at = va + done;
      const n = Math.min(len - done, PAGE - ((at >>> 0) & (PAGE - 1)));
      out.push(this.translate(at, access), n);
      done += n;
    }
    return out;
  }

  /** Move bytes between `buf` and physical memory through the cache (CacheSystem.copy). */
  physCopy(pa: number, buf: Uint8Array, bufOff: number, len: number, write: boolean): void {
    this.caches.copy(this.pkg.index, pa, buf, bufOff, len, write);
    this.clock.tick(COST.insn);
  }

  // --- data access -------------------------------------------------------------------

  read(va: number, dst: Uint8Array): void {
    const p = this.pieces(va, dst.length, 'r');
    for (let i = 0, o = 0; i < p.length; i += 2) { this.physCopy(p[i], dst, o, p[i + 1], false); o += p[i + 1]; }
  }

  write(va: number, src: Uint8Array): void {
    const p = this.pieces(va, src.length, 'w');
    for (let i = 0, o = 0; i < p.length; i += 2) { this.physCopy(p[i], src, o, p[i + 1], true); o += p[i + 1]; }
  }

  fetch(va: number, len: number): Uint8Array {
    const dst = new Uint8Array(len);
    const p = this.pieces(va, len, 'x');
    for (let i = 0, o = 0; i < p.length; i += 2) { this.physCopy(p[i], dst, o, p[i + 1], false); o += p[i + 1]; }
    return dst;
  }

  fill(va: number, byte: number, len: number): void {
    const p = this.pieces(va, len, 'w');
    const chunk = this.fillChunk.fill(byte & 0xff); // no piece exceeds a page
    for (let i = 0; i < p.length; i += 2) this.physCopy(p[i], chunk, 0, p[i + 1], true);
  }

  load8(va: number): number {
    const pa = this.translate(va, 'r');
    const inLine = (pa >>> 0) & (LINE - 1);
    return this.data[this.caches.line(this.pkg.index, pa - inLine, false) + inLine];
  }

  store8(va: number, value: number): void {
    const pa = this.translate(va, 'w');
    const inLine = (pa >>> 0) & (LINE - 1);
    this.data[this.caches.line(this.pkg.index, pa - inLine, true) + inLine] = value & 0xff;
  }

  load32(va: number): number {
    if (((va >>> 0) & 3) === 0) {
      const pa = this.translate(va, 'r');
      return this.mmio?.claims(pa) ? this.mmio.read32(pa) : this.phys32(pa);
    }
    const b = this.bytes8.subarray(0, 4);
    this.read(va, b);
    return (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
  }

  store32(va: number, value: number): void {
    if (((va >>> 0) & 3) === 0) {
      const pa = this.translate(va, 'w');
      if (this.mmio?.claims(pa)) this.mmio.write32(pa, value >>> 0); else this.physStore32(pa, value >>> 0);
      return;
    }
    const b = this.bytes8.subarray(0, 4);
    b[0] = value & 0xff; b[1] = (value >>> 8) & 0xff; b[2] = (value >>> 16) & 0xff; b[3] = value >>> 24;
    this.write(va, b);
  }

  load64(va: number): bigint {
    const b = new Uint8Array(8);
    this.read(va, b);
    return new DataView(b.buffer).getBigUint64(0, true);
  }

  store64(va: number, value: bigint): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, value), true);
    this.write(va, b);
  }

  // --- cache control -------------------------------------------------------------------

  clflush(va: number): void {
    // CLFLUSH needs a translation (read permission suffices, SDM) but changes no data.
    const pa = this.translate(va, 'r');
    this.caches.clflush(pa - ((pa >>> 0) & (LINE - 1)));
  }

  wbinvd(): void {
    this.privileged();
    this.caches.wbinvd(this.pkg.index);
  }

  // --- MOVDIR64B: a full-line store that bypasses the caches ------------------------------

  movdir64b(va: number, src: Uint8Array, srcOff = 0): void {
    if (!this.cfg.cpu.movdir64b) throw new Fault(X86_TRAP_UD, 0, 0, 'MOVDIR64B not supported');
    if (!(src instanceof Uint8Array) || !Number.isInteger(srcOff) || srcOff < 0 || srcOff + LINE > src.length) {
      throw new Fault(X86_TRAP_GP, 0, 0, 'MOVDIR64B source outside its buffer');
    }
    if (va % LINE !== 0) throw new Fault(X86_TRAP_GP, 0, 0, 'MOVDIR64B destination not 64-byte aligned');
    const pa = this.translate(va, 'w'); // #PF before anything changes
    this.caches.directStore(this.pkg.index, pa, src, srcOff);
    this.clock.tick(COST.insn);
  }

  // --- HLT, port I/O, IDT, text, VMX (isa.ts "Execution model"; logic in vmx/) ----------

  /** The VMX unit: VMXON state, current VMCS, this CPU's combined-translation TLBs. */
  readonly vmx: VmxUnit;
  /** IDTR as LIDT loaded it (the physical machine has no interrupt sources to deliver). */
  idtr = { base: 0, limit: 0 };

  hlt(): void { this.privileged(); this.clock.tick(COST.insn); }
  private ioIn(port: number, size: 1 | 2 | 4): number {
    this.privileged();
    this.clock.tick(COST.insn * 20);
    return this.platform.io.read(port & 0xffff, size);
  }
  private ioOut(port: number, size: 1 | 2 | 4, value: number): void {
    this.privileged();
    this.clock.tick(COST.insn * 20);
    this.platform.io.write(port & 0xffff, size, (value >>> 0) % 2 ** (8 * size));
  }
  inb(port: number): number { return this.ioIn(port, 1); }
  inw(port: number): number { return this.ioIn(port, 2); }
  inl(port: number): number { return this.ioIn(port, 4); }
  outb(port: number, v: number): void { this.ioOut(port, 1, v); }
  outw(port: number, v: number): void { this.ioOut(port, 2, v); }
  outl(port: number, v: number): void { this.ioOut(port, 4, v); }
  lidt(base: number, limit: number): void { this.privileged(); this.idtr = { base, limit: limit & 0xffff }; }
  registerCode(routine: Routine, name = routine.name, eptp?: number): CodeAddr {
    return this.platform.text.register(routine, name, eptp === undefined ? HOST_DOMAIN : eptRoot(eptp));
  }

  vmxon(pa: number): number { return this.vmx.vmxon(pa); }
  vmxoff(): number { return this.vmx.vmxoff(); }
  vmclear(pa: number): number { return this.vmx.vmclear(pa); }
  vmptrld(pa: number): number { return this.vmx.vmptrld(pa); }
  vmptrst(): number { return this.vmx.vmptrst(); }
  vmread(field: number): number { return this.vmx.vmread(field); }
  vmwrite(field: number, value: number): number { return this.vmx.vmwrite(field, value); }
  vmlaunch(): number { return this.vmx.vmlaunch(); }
  vmresume(): number { return this.vmx.vmresume(); }
  invept(type: number, eptp: number): number { return this.vmx.invept(type, eptp); }
  vmxGuestRegs(): GuestRegs { return this.vmx.guestRegs(); }
  vmxPendingAccess(): VmxPendingAccess | null { return this.vmx.pendingAccess(); }

  // HostCpu: what a vCPU running here uses.
  loadHostCr3(cr3: number): void { if (cr3 !== this.cr3) { this.cr3 = cr3; this.tlb.flush(true); } }
  clflushPhys(pa: number): void { this.caches.clflush(pa); }
  wbinvdPhys(): void { this.caches.wbinvd(this.pkg.index); }
  tick(cycles: number): void { this.clock.tick(cycles); }
}
