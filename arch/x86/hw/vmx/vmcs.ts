/**
 * The VMCS region in memory (SDM Vol. 3C §25.2) and its field encodings (Appendix B).
 *
 * A VMCS is a 4 KiB region at a physical address that may carry a KeyID. Bytes 3:0 hold
 * the revision identifier (bit 31: shadow-VMCS indicator), bytes 7:4 the VMX-abort
 * indicator; the rest is implementation-specific. Here byte 8 is the launch state and
 * each field has an 8-byte slot from byte 16 on, in the order of FIELDS.
 *
 * As on real processors (SDM §25.11.1), an *active* VMCS is cached in the processor
 * (VmcsData): VMPTRLD reads the region, through the caches and under the KeyID of its
 * address, unless it is already active on this CPU; VMREAD/VMWRITE work on the cached
 * copy; VMCLEAR writes it back and makes it inactive. Software must VMCLEAR a VMCS
 * before it reads its region or loads it on another CPU.
 */
import * as isa from '../isa.js';

/** The fields this machine implements, in slot order. */
const FIELDS: number[] = [
  isa.VIRTUAL_PROCESSOR_ID, isa.GUEST_CS_SELECTOR, isa.HOST_CS_SELECTOR,
  isa.IO_BITMAP_A, isa.IO_BITMAP_B, isa.MSR_BITMAP, isa.VM_EXIT_MSR_STORE_ADDR,
  isa.VM_EXIT_MSR_LOAD_ADDR, isa.VM_ENTRY_MSR_LOAD_ADDR, isa.TSC_OFFSET,
  isa.VIRTUAL_APIC_PAGE_ADDR, isa.APIC_ACCESS_ADDR, isa.EPT_POINTER, isa.PCONFIG_EXITING,
  isa.GUEST_PHYSICAL_ADDRESS, isa.VMCS_LINK_POINTER, isa.GUEST_IA32_EFER,
  isa.PIN_BASED_VM_EXEC_CONTROL, isa.CPU_BASED_VM_EXEC_CONTROL, isa.EXCEPTION_BITMAP,
  isa.VM_EXIT_CONTROLS, isa.VM_ENTRY_CONTROLS, isa.VM_ENTRY_INTR_INFO_FIELD,
  isa.VM_ENTRY_EXCEPTION_ERROR_CODE, isa.VM_ENTRY_INSTRUCTION_LEN, isa.SECONDARY_VM_EXEC_CONTROL,
  isa.VM_INSTRUCTION_ERROR, isa.VM_EXIT_REASON, isa.VM_EXIT_INTR_INFO, isa.VM_EXIT_INTR_ERROR_CODE,
  isa.IDT_VECTORING_INFO_FIELD, isa.VM_EXIT_INSTRUCTION_LEN, isa.GUEST_IDTR_LIMIT,
  isa.GUEST_INTERRUPTIBILITY_INFO, isa.GUEST_ACTIVITY_STATE, isa.EXIT_QUALIFICATION,
  isa.GUEST_LINEAR_ADDRESS, isa.GUEST_CR0, isa.GUEST_CR3, isa.GUEST_CR4, isa.GUEST_IDTR_BASE,
  isa.GUEST_RSP, isa.GUEST_RIP, isa.GUEST_RFLAGS, isa.HOST_CR0, isa.HOST_CR3, isa.HOST_CR4,
  isa.HOST_RSP, isa.HOST_RIP,
];

/** Slot index of each encoding (encodings are below 0x8000), -1 for none: VMREAD and
 *  VMWRITE are on every exit's path, so this is an array, not a Map. */
const INDEX = new Int16Array(0x8000).fill(-1);
FIELDS.forEach((f, i) => { INDEX[f] = i; });
function slot(field: number): number { return Number.isInteger(field) && field >= 0 && field < 0x8000 ? INDEX[field] : -1; }
export const VMCS_LAUNCH_STATE_OFFSET = 8;
export const VMCS_SIZE = 4096;

/** Physical 32-bit accesses through the caches (the CPU's walk port). */
export interface PhysPort {
  phys32(pa: number): number;
  /**
   * The 8-byte entry at `pa` (8-aligned) into out[0] (bits 31:0) and out[1] (bits 63:32):
   * two 32-bit loads, counted and charged as two, with one cache lookup.
   */
  phys64(pa: number, out: Uint32Array): void;
  physStore32(pa: number, value: number): void;
}

const TWO32 = 4294967296;

/** Width in bits of a field from its encoding (bits 14:13); natural width is 64 here. */
function fieldWidth(field: number): 16 | 32 | 64 {
  const w = (field >>> 13) & 3;
  return w === 0 ? 16 : w === 2 ? 32 : 64;
}

/** Exit-information fields (type 1, bits 11:10) are read-only to VMWRITE. */
export function fieldReadOnly(field: number): boolean { return ((field >>> 10) & 3) === 1; }

export function fieldOffset(field: number): number | undefined {
  const i = slot(field);
  return i < 0 ? undefined : 16 + i * 8;
}





/** A value VMWRITE accepts: an unsigned integer that fits a double, or -1 (all ones). */
export function validFieldValue(field: number, value: number): boolean {
  if (!Number.isSafeInteger(value)) return false;
  if (value === -1) return fieldWidth(field) === 64;
  return value >= 0;
}

/** An active VMCS held in the processor: every field as two 32-bit halves. */
export class VmcsData {
  readonly lo = new Uint32Array(FIELDS.length);
  readonly hi = new Uint32Array(FIELDS.length);
  launched = false;

  constructor(readonly pa: number) {}

  /** Read the region at `pa` (VMPTRLD of an inactive VMCS). */
  static load(port: PhysPort, pa: number): VmcsData {
    const d = new VmcsData(pa);
    for (let i = 0; i < FIELDS.length; i++) {
      d.lo[i] = port.phys32(pa + 16 + i * 8);
      d.hi[i] = port.phys32(pa + 20 + i * 8);
    }
    d.launched = port.phys32(pa + VMCS_LAUNCH_STATE_OFFSET) === 1;
    return d;
  }

  /** Write the data back to the region (VMCLEAR), launch state "clear". */
  flush(port: PhysPort): void {
    for (let i = 0; i < FIELDS.length; i++) {
      port.physStore32(this.pa + 16 + i * 8, this.lo[i]);
      port.physStore32(this.pa + 20 + i * 8, this.hi[i]);
    }
    port.physStore32(this.pa + VMCS_LAUNCH_STATE_OFFSET, 0);
  }

  get(field: number): number {
    const i = slot(field);
    if (i < 0) return 0;
    const w = fieldWidth(field);
    return w === 64 ? this.hi[i] * TWO32 + this.lo[i] : this.lo[i];
  }

  set(field: number, value: number): void {
    const i = slot(field);
    if (i < 0) return;
    const w = fieldWidth(field);
    if (w === 64) {
      this.lo[i] = value === -1 ? 0xffffffff : value % TWO32;
      this.hi[i] = value === -1 ? 0xffffffff : Math.floor(value / TWO32);
    } else {
      this.lo[i] = w === 16 ? value & 0xffff : value >>> 0;
      this.hi[i] = 0;
    }
  }

  /** Bit `bit` (0..63) of a 64-bit field, exactly (a double cannot hold bit 63 with bit 0). */
  bit(field: number, bit: number): boolean {
    const i = slot(field);
    return ((bit >= 32 ? this.hi[i] : this.lo[i]) >>> (bit % 32) & 1) === 1;
  }
}

