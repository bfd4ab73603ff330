/**
 * The VMX capability MSRs (SDM Vol. 3C Appendix A) and IA32_FEATURE_CONTROL, which the
 * BIOS leaves locked with VMX enabled outside SMX. Each allowed-1 mask lists exactly the
 * controls this machine implements; VM entry rejects any other bit with VMfailValid(7).
 */
import {
  CPU_BASED_ACTIVATE_SECONDARY_CONTROLS, CPU_BASED_HLT_EXITING, CPU_BASED_UNCOND_IO_EXITING,
  CPU_BASED_USE_IO_BITMAPS, CPU_BASED_USE_MSR_BITMAPS, MSR_IA32_FEATURE_CONTROL,
  MSR_IA32_VMX_BASIC, MSR_IA32_VMX_EPT_VPID_CAP, MSR_IA32_VMX_PROCBASED_CTLS,
  MSR_IA32_VMX_PROCBASED_CTLS2, PIN_BASED_EXT_INTR_MASK, SECONDARY_EXEC_ENABLE_EPT,
  SECONDARY_EXEC_ENABLE_PCONFIG, SECONDARY_EXEC_ENABLE_VPID, SECONDARY_EXEC_UNRESTRICTED_GUEST,
  SECONDARY_EXEC_WBINVD_EXITING, VMCS_REVISION_ID,
} from '../isa.js';

export const PIN_ALLOWED = PIN_BASED_EXT_INTR_MASK;
export const PRIMARY_ALLOWED = (CPU_BASED_HLT_EXITING | CPU_BASED_UNCOND_IO_EXITING | CPU_BASED_USE_IO_BITMAPS
  | CPU_BASED_USE_MSR_BITMAPS | CPU_BASED_ACTIVATE_SECONDARY_CONTROLS | (1 << 3) /* TSC offsetting */) >>> 0;
export const SECONDARY_ALLOWED = SECONDARY_EXEC_ENABLE_EPT | SECONDARY_EXEC_ENABLE_VPID
  | SECONDARY_EXEC_WBINVD_EXITING | SECONDARY_EXEC_UNRESTRICTED_GUEST | SECONDARY_EXEC_ENABLE_PCONFIG;

/** IA32_VMX_EPT_VPID_CAP: execute-only (0), 4-level walk (6), UC (8) and WB (14) EPTP,
 *  2 MiB (16) and 1 GiB (17) pages, INVEPT (20), A/D flags (21), single-context (25) and
 *  all-context (26) INVEPT. No 5-level walk, no INVVPID. */
export const EPT_VPID_CAP = (1n << 0n) | (1n << 6n) | (1n << 8n) | (1n << 14n) | (1n << 16n) | (1n << 17n)
  | (1n << 20n) | (1n << 21n) | (1n << 25n) | (1n << 26n);

const FEATURE_CONTROL_LOCKED = 1n;
const FEATURE_CONTROL_VMXON_OUTSIDE_SMX = 4n;

/** The value of VMX MSR `msr`, or null if it is not one. */
export function vmxMsr(msr: number): bigint | null {
  switch (msr) {
    case MSR_IA32_FEATURE_CONTROL: return FEATURE_CONTROL_LOCKED | FEATURE_CONTROL_VMXON_OUTSIDE_SMX;
    // Revision, region size 4096 (bits 44:32), WB memory type for the VMCS (bits 53:50).
    case MSR_IA32_VMX_BASIC: return BigInt(VMCS_REVISION_ID) | (4096n << 32n) | (6n << 50n);
    case MSR_IA32_VMX_PROCBASED_CTLS: return BigInt(PRIMARY_ALLOWED) << 32n;
    case MSR_IA32_VMX_PROCBASED_CTLS2: return BigInt(SECONDARY_ALLOWED) << 32n;
    case MSR_IA32_VMX_EPT_VPID_CAP: return EPT_VPID_CAP;
    default: return null;
  }
}
