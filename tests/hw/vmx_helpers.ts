/**
 * A bare-metal hypervisor stub for the VMX tests: CPU 0 with paging off (linear =
 * physical) turns VMX on, builds one VMCS and an EPT in memory by hand, and runs guest
 * routines. Exits in the middle of a guest operation land in `exits` and `onExit`.
 */
import { machine, type Patch } from './helpers.js';
import type { Machine } from '../../arch/x86/hw/machine.js';
import type { Cpu } from '../../arch/x86/hw/cpu.js';
import * as isa from '../../arch/x86/hw/isa.js';

export const VMXON_PA = 0x300000;
export const VMCS_PA = 0x301000;
export const MSR_BITMAP_PA = 0x302000;
export const TABLES_PA = 0x400000;

export interface ExitRecord { reason: number; qual: number; gpa: number; gla: number }

export class VmxRig {
  readonly m: Machine;
  readonly cpu: Cpu;
  readonly exits: ExitRecord[] = [];
  onExit: ((cpu: isa.X86Cpu, e: ExitRecord) => void) | null = null;
  eptp = 0;
  private nextTable = TABLES_PA;
  vmcs: number;

  constructor(patch: Patch = {}, opts: { vmcs?: number; secondary?: number; primary?: number } = {}) {
    this.m = machine(patch);
    this.cpu = this.m.cpus[0];
    this.vmcs = opts.vmcs ?? VMCS_PA;
    const c = this.cpu;
    c.store32(VMXON_PA, isa.VMCS_REVISION_ID);
    if (c.vmxon(VMXON_PA) !== 0) throw new Error('vmxon');
    c.fill(this.vmcs, 0, 4096); // as alloc_vmcs_cpu's zeroed page: unwritten fields read 0
    c.store32(this.vmcs, isa.VMCS_REVISION_ID);
    c.vmclear(this.vmcs);
    if (c.vmptrld(this.vmcs) !== 0) throw new Error('vmptrld');
    const root = this.table();
    this.eptp = root + isa.VMX_EPTP_MT_WB + isa.VMX_EPTP_PWL_4 + isa.VMX_EPTP_AD_ENABLE_BIT;
    const w = (f: number, v: number): void => { if (c.vmwrite(f, v) !== 0) throw new Error(`vmwrite ${f.toString(16)}`); };
    w(isa.CPU_BASED_VM_EXEC_CONTROL, opts.primary ?? (isa.CPU_BASED_HLT_EXITING | isa.CPU_BASED_UNCOND_IO_EXITING |
      isa.CPU_BASED_ACTIVATE_SECONDARY_CONTROLS) >>> 0);
    w(isa.SECONDARY_VM_EXEC_CONTROL, opts.secondary ?? (isa.SECONDARY_EXEC_ENABLE_EPT | isa.SECONDARY_EXEC_UNRESTRICTED_GUEST |
      isa.SECONDARY_EXEC_ENABLE_VPID));
    w(isa.VIRTUAL_PROCESSOR_ID, 1);
    w(isa.EPT_POINTER, this.eptp);
    w(isa.HOST_CR3, 0);
    w(isa.HOST_RIP, c.registerCode(() => this.handle(), 'host_exit'));
    w(isa.GUEST_CR0, 0);
  }

  /** A zeroed 4 KiB table page. */
  table(): number {
    const pa = this.nextTable;
    this.nextTable += 4096;
    this.cpu.fill(pa, 0, 4096);
    return pa;
  }

  write64(pa: number, lo: number, hi = 0): void { this.cpu.store32(pa, lo >>> 0); this.cpu.store32(pa + 4, hi >>> 0); }
  read64(pa: number): { lo: number; hi: number } { return { lo: this.cpu.load32(pa), hi: this.cpu.load32(pa + 4) }; }

  /**
   * Map `gpa` to `hpa` with leaf bits `bits` (R/W/X, memory type...) at `leafLevel`
   * (3 = 4 KiB PTE, 2 = 2 MiB PDE, 1 = 1 GiB PDPTE). Non-leaf entries are RWX.
   * Returns the leaf entry's physical address.
   */
  map(gpa: number, hpa: number, bits = 7 | (6 << 3), leafLevel = 3): number {
    const shifts = [39, 30, 21, 12];
    let table = this.eptp - (this.eptp % 4096);
    for (let level = 0; level < leafLevel; level++) {
      const e = table + (Math.floor(gpa / 2 ** shifts[level]) % 512) * 8;
      const cur = this.read64(e);
      if (cur.lo & 7) { table = (cur.hi & 0xfffff) * 2 ** 32 + ((cur.lo >>> 12) << 12 >>> 0); continue; }
      const t = this.table();
      this.write64(e, t % 2 ** 32 + 7, Math.floor(t / 2 ** 32));
      table = t;
    }
    const e = table + (Math.floor(gpa / 2 ** shifts[leafLevel]) % 512) * 8;
    const lo = (hpa % 2 ** 32) + bits + (leafLevel < 3 ? isa.VMX_EPT_LARGE_PAGE : 0);
    this.write64(e, lo, Math.floor(hpa / 2 ** 32));
    return e;
  }

  private handle(): void {
    const c = this.cpu;
    const e = { reason: c.vmread(isa.VM_EXIT_REASON), qual: c.vmread(isa.EXIT_QUALIFICATION),
      gpa: c.vmread(isa.GUEST_PHYSICAL_ADDRESS), gla: c.vmread(isa.GUEST_LINEAR_ADDRESS) };
    this.exits.push(e);
    if (this.onExit) this.onExit(c, e);
    else if (e.reason === isa.EXIT_REASON_EPT_VIOLATION || e.reason === isa.EXIT_REASON_EPT_MISCONFIG) {
      c.vmwrite(isa.GUEST_ACTIVITY_STATE, isa.GUEST_ACTIVITY_SHUTDOWN); // nothing to fix it with
    }
  }

  /** Run `routine` as guest code from a fresh entry; the VMLAUNCH/VMRESUME result. */
  run(routine: isa.Routine): number {
    const c = this.cpu;
    c.vmwrite(isa.GUEST_RIP, c.registerCode(routine, routine.name, this.eptp));
    c.vmwrite(isa.GUEST_ACTIVITY_STATE, isa.GUEST_ACTIVITY_ACTIVE);
    const r = this.launched ? c.vmresume() : c.vmlaunch();
    if (r === 0 && !(this.reason() & isa.VMX_EXIT_REASONS_FAILED_VMENTRY)) this.launched = true;
    return r;
  }
  launched = false;

  reason(): number { return this.cpu.vmread(isa.VM_EXIT_REASON); }
  reasons(): number[] { return this.exits.map((e) => e.reason); }
}
