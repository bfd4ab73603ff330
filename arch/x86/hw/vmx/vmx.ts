/**
 * VMX operation of one logical CPU (SDM Vol. 3C ch. 24-28, 31): VMXON/VMXOFF, the
 * current-VMCS pointer, VMCLEAR/VMPTRLD/VMREAD/VMWRITE, VM entry with its checks, and
 * INVEPT over this CPU's cached combined (guest-linear to host-physical) translations.
 * The guest side of an entry, and the exits, are in vcpu.ts; isa.ts describes the
 * execution model (synchronous exits to HOST_RIP, the outermost halt).
 *
 * Entry checks done here (§27.2-27.3): controls against the capability MSRs, EPTP,
 * bitmap addresses (4 KiB aligned, below MAXPHYADDR: VMfailValid(7)); HOST_CR3 and
 * HOST_RIP (a host code address: VMfailValid(8)); guest state (activity state, CR3, paging
 * on unless "unrestricted guest": a VM-entry failure, exit reason 33 with bit 31).
 */
import {
  CPU_BASED_ACTIVATE_SECONDARY_CONTROLS, CPU_BASED_USE_IO_BITMAPS, CPU_BASED_USE_MSR_BITMAPS,
  EPT_POINTER, EXIT_REASON_INVALID_STATE, Fault, GUEST_ACTIVITY_HLT, GUEST_ACTIVITY_STATE, GUEST_CR0,
  GUEST_CR3, HOST_CR3, HOST_RIP, IO_BITMAP_A, IO_BITMAP_B, MSR_BITMAP, PIN_BASED_VM_EXEC_CONTROL,
  CPU_BASED_VM_EXEC_CONTROL, SECONDARY_EXEC_ENABLE_EPT, SECONDARY_EXEC_UNRESTRICTED_GUEST,
  SECONDARY_VM_EXEC_CONTROL, VMCS_REVISION_ID, VMXERR_ENTRY_INVALID_CONTROL_FIELD,
  VMXERR_ENTRY_INVALID_HOST_STATE_FIELD, VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID,
  VMXERR_UNSUPPORTED_VMCS_COMPONENT, VMXERR_VMCLEAR_INVALID_ADDRESS, VMXERR_VMCLEAR_VMXON_POINTER,
  VMXERR_VMLAUNCH_NONCLEAR_VMCS, VMXERR_VMPTRLD_INCORRECT_VMCS_REVISION_ID,
  VMXERR_VMPTRLD_INVALID_ADDRESS, VMXERR_VMPTRLD_VMXON_POINTER, VMXERR_VMRESUME_NONLAUNCHED_VMCS,
  VMXERR_VMWRITE_READ_ONLY_VMCS_COMPONENT, VMXERR_VMXON_IN_VMX_ROOT_OPERATION, VMX_EXIT_REASONS_FAILED_VMENTRY,
  VMX_EPT_EXTENT_CONTEXT, VMX_EPT_EXTENT_GLOBAL, VMX_FAIL_INVALID, VMX_SUCCEED, VM_EXIT_REASON,
  VM_INSTRUCTION_ERROR, X86_CR0_PG, X86_TRAP_GP, X86_TRAP_UD, type GuestRegs, type VmxPendingAccess,
} from '../isa.js';
import type { MachineConfig } from '../config.js';
import { eptRoot, eptpValid } from './ept.js';
import { PIN_ALLOWED, PRIMARY_ALLOWED, SECONDARY_ALLOWED } from './msrs.js';
import type { VmxPlatform } from './platform.js';
import { HOST_DOMAIN } from './text.js';
import { Tlb } from '../tlb.js';
import {
  VMCS_LAUNCH_STATE_OFFSET, VmcsData, fieldOffset, fieldReadOnly, validFieldValue, type PhysPort,
} from './vmcs.js';
import { GuestCpu, type HostCpu } from './vcpu.js';

const PAGE = 4096;

export class VmxUnit {
  private on = false;
  private vmxonPa = -1;
  /** The current-VMCS pointer, -1 for none, and its data. */
  current = -1;
  cur: VmcsData | null = null;
  /** VMCSs active on this CPU (loaded and not VMCLEARed), by address. */
  private readonly active = new Map<number, VmcsData>();
  /** The guest running on this CPU (VMX non-root operation), or null. */
  nonRoot: GuestCpu | null = null;
  /** Cached combined translations, per (VPID, EPT root). INVEPT drops them. */
  private readonly guestTlbs = new Map<string, Tlb>();

  constructor(private readonly host: HostCpu, private readonly platform: VmxPlatform,
    private readonly cfg: MachineConfig) {}

  get port(): PhysPort { return this.host; }

  reset(): void {
    this.on = false;
    this.vmxonPa = -1;
    this.setCurrent(null);
    this.active.clear();
    this.guestTlbs.clear();
  }

  private setCurrent(d: VmcsData | null): void {
    this.cur = d;
    this.current = d ? d.pa : -1;
  }

  private check(): void {
    if (this.nonRoot) throw new Fault(X86_TRAP_UD, 0, 0, 'VMX instruction in VMX non-root operation');
    if (this.host.cpl !== 0) throw new Fault(X86_TRAP_GP, 0, 0, 'VMX instruction at CPL 3');
  }

  private checkOn(): void {
    this.check();
    if (!this.on) throw new Fault(X86_TRAP_UD, 0, 0, 'not in VMX operation');
  }

  /** VMfailValid(err) with a current VMCS, else VMfailInvalid (SDM §31.2). */
  private fail(err: number): number {
    if (!this.cur) return VMX_FAIL_INVALID;
    this.cur.set(VM_INSTRUCTION_ERROR, err);
    return err;
  }

  private badRegionAddress(pa: number): boolean {
    return !Number.isSafeInteger(pa) || pa < 0 || pa % PAGE !== 0 || pa >= 2 ** this.cfg.cpu.maxPhysAddr;
  }

  vmxon(pa: number): number {
    this.check();
    if (this.on) return this.fail(VMXERR_VMXON_IN_VMX_ROOT_OPERATION);
    if (this.badRegionAddress(pa)) return VMX_FAIL_INVALID;
    if ((this.host.phys32(pa) & 0x7fffffff) !== VMCS_REVISION_ID) return VMX_FAIL_INVALID;
    this.on = true;
    this.vmxonPa = pa;
    this.setCurrent(null);
    return VMX_SUCCEED;
  }

  vmxoff(): number {
    this.checkOn();
    for (const d of this.active.values()) d.flush(this.host); // SDM: software VMCLEARs first
    this.active.clear();
    this.on = false;
    this.vmxonPa = -1;
    this.setCurrent(null);
    this.guestTlbs.clear();
    return VMX_SUCCEED;
  }

  vmclear(pa: number): number {
    this.checkOn();
    if (this.badRegionAddress(pa)) return this.fail(VMXERR_VMCLEAR_INVALID_ADDRESS);
    if (pa === this.vmxonPa) return this.fail(VMXERR_VMCLEAR_VMXON_POINTER);
    const d = this.active.get(pa);
    if (d) { d.flush(this.host); this.active.delete(pa); } else {
      this.host.physStore32(pa + VMCS_LAUNCH_STATE_OFFSET, 0); // launch state "clear"
    }
    if (pa === this.current) this.setCurrent(null);
    return VMX_SUCCEED;
  }

  vmptrld(pa: number): number {
    this.checkOn();
    if (this.badRegionAddress(pa)) return this.fail(VMXERR_VMPTRLD_INVALID_ADDRESS);
    if (pa === this.vmxonPa) return this.fail(VMXERR_VMPTRLD_VMXON_POINTER);
    if ((this.host.phys32(pa) & 0x7fffffff) !== VMCS_REVISION_ID) {
      return this.fail(VMXERR_VMPTRLD_INCORRECT_VMCS_REVISION_ID);
    }
    let d = this.active.get(pa);
    if (!d) { d = VmcsData.load(this.host, pa); this.active.set(pa, d); }
    this.setCurrent(d);
    return VMX_SUCCEED;
  }

  vmptrst(): number { this.checkOn(); return this.current; }

  vmread(field: number): number {
    this.checkOn();
    if (!this.cur) return -1;
    if (fieldOffset(field) === undefined) { this.fail(VMXERR_UNSUPPORTED_VMCS_COMPONENT); return -1; }
    return this.cur.get(field);
  }

  vmwrite(field: number, value: number): number {
    this.checkOn();
    if (!this.cur) return VMX_FAIL_INVALID;
    if (fieldOffset(field) === undefined || !validFieldValue(field, value)) {
      return this.fail(VMXERR_UNSUPPORTED_VMCS_COMPONENT);
    }
    if (fieldReadOnly(field)) return this.fail(VMXERR_VMWRITE_READ_ONLY_VMCS_COMPONENT);
    this.cur.set(field, value);
    return VMX_SUCCEED;
  }

  invept(type: number, eptp: number): number {
    this.checkOn();
    if (type === VMX_EPT_EXTENT_GLOBAL) { for (const t of this.guestTlbs.values()) t.flush(false); return VMX_SUCCEED; }
    if (type !== VMX_EPT_EXTENT_CONTEXT || !eptpValid(eptp, this.cfg.cpu.maxPhysAddr)) {
      return this.fail(VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID);
    }
    const root = `:${eptRoot(eptp)}`;
    for (const [k, t] of this.guestTlbs) if (k.endsWith(root)) t.flush(false);
    return VMX_SUCCEED;
  }

  /** The combined-translation TLB for (vpid, EPT root), created on first use. */
  guestTlb(vpid: number, root: number): Tlb {
    const key = `${vpid}:${root}`;
    let t = this.guestTlbs.get(key);
    if (!t) { t = new Tlb(this.cfg.tlbEntries); this.guestTlbs.set(key, t); }
    return t;
  }

  guestRegs(): GuestRegs {
    this.checkOn();
    if (this.current < 0) throw new Fault(X86_TRAP_UD, 0, 0, 'no current VMCS');
    return this.platform.info(this.current).regs;
  }

  pendingAccess(): VmxPendingAccess | null {
    this.checkOn();
    return this.current < 0 ? null : this.platform.info(this.current).view?.pending ?? null;
  }

  private get(field: number): number { return this.cur!.get(field); }

  /** The control checks of §27.2.1; returns a VM-instruction error or 0. */
  private checkControls(): number {
    const maxPa = this.cfg.cpu.maxPhysAddr;
    const pin = this.get(PIN_BASED_VM_EXEC_CONTROL);
    const primary = this.get(CPU_BASED_VM_EXEC_CONTROL);
    const secondary = primary & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS ? this.get(SECONDARY_VM_EXEC_CONTROL) : 0;
    if ((pin & ~PIN_ALLOWED) || (primary & ~PRIMARY_ALLOWED) || (secondary & ~SECONDARY_ALLOWED)) {
      return VMXERR_ENTRY_INVALID_CONTROL_FIELD;
    }
    const badBitmap = (pa: number): boolean => pa % PAGE !== 0 || pa >= 2 ** maxPa;
    if (primary & CPU_BASED_USE_MSR_BITMAPS && badBitmap(this.get(MSR_BITMAP))) return VMXERR_ENTRY_INVALID_CONTROL_FIELD;
    if (primary & CPU_BASED_USE_IO_BITMAPS && (badBitmap(this.get(IO_BITMAP_A)) || badBitmap(this.get(IO_BITMAP_B)))) {
      return VMXERR_ENTRY_INVALID_CONTROL_FIELD;
    }
    if (secondary & SECONDARY_EXEC_UNRESTRICTED_GUEST && !(secondary & SECONDARY_EXEC_ENABLE_EPT)) {
      return VMXERR_ENTRY_INVALID_CONTROL_FIELD;
    }
    if (secondary & SECONDARY_EXEC_ENABLE_EPT && !eptpValid(this.get(EPT_POINTER), maxPa)) {
      return VMXERR_ENTRY_INVALID_CONTROL_FIELD;
    }
    const hostCr3 = this.get(HOST_CR3);
    if (hostCr3 >= 2 ** maxPa || !this.platform.text.lookup(this.get(HOST_RIP), HOST_DOMAIN)) {
      return VMXERR_ENTRY_INVALID_HOST_STATE_FIELD;
    }
    return 0;
  }

  /** Guest-state checks of §27.3.1: false means a VM-entry failure (exit reason 33). */
  private guestStateValid(): boolean {
    const activity = this.get(GUEST_ACTIVITY_STATE);
    if (activity > GUEST_ACTIVITY_HLT) return false;
    if (this.get(GUEST_CR3) >= 2 ** this.cfg.cpu.maxPhysAddr) return false;
    const primary = this.get(CPU_BASED_VM_EXEC_CONTROL);
    const secondary = primary & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS ? this.get(SECONDARY_VM_EXEC_CONTROL) : 0;
    const ug = (secondary & SECONDARY_EXEC_UNRESTRICTED_GUEST) !== 0;
    return ug || (this.get(GUEST_CR0) & X86_CR0_PG) !== 0;
  }

  vmlaunch(): number { return this.enter(true); }
  vmresume(): number { return this.enter(false); }

  private enter(launch: boolean): number {
    this.checkOn();
    if (!this.cur) return VMX_FAIL_INVALID;
    const vmcs = this.current;
    const data = this.cur;
    const launched = data.launched;
    if (launch && launched) return this.fail(VMXERR_VMLAUNCH_NONCLEAR_VMCS);
    if (!launch && !launched) return this.fail(VMXERR_VMRESUME_NONLAUNCHED_VMCS);
    const err = this.checkControls();
    if (err) return this.fail(err);
    if (!this.guestStateValid()) {
      data.set(VM_EXIT_REASON, (VMX_EXIT_REASONS_FAILED_VMENTRY | EXIT_REASON_INVALID_STATE) >>> 0);
      return VMX_SUCCEED; // a VM exit (entry failure), not a VMfail
    }
    if (launch) data.launched = true;
    const info = this.platform.info(vmcs);
    if (!info.view) {
      const ept = (this.get(SECONDARY_VM_EXEC_CONTROL) & SECONDARY_EXEC_ENABLE_EPT) !== 0;
      const domain = ept ? eptRoot(this.get(EPT_POINTER)) : -1;
      info.view = new GuestCpu(info, this.platform, this.cfg, this.platform.nextVcpuIndex(domain));
    }
    const saved = this.nonRoot;
    try {
      info.view.run(this.host, this);
    } finally {
      this.nonRoot = saved;
      this.setCurrent(data);
    }
    return VMX_SUCCEED;
  }
}
