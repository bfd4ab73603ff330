/**
 * What KVM shows a guest through CPUID (Linux arch/x86/kvm/cpuid.c):
 *  - leaf 1: ECX.HYPERVISOR (bit 31) set; VMX (ECX bit 5) hidden (no nested VMX); the
 *    APIC ID in EBX[31:24] is the vCPU id;
 *  - leaf 7: TME (ECX bit 13) and PCONFIG (EDX bit 18) hidden: kvm_cpu_cap_mask's lists
 *    do not include them, so the guest kernel finds no MKTME (no x86/tme lines, no
 *    keyctl mktme); leaf 1BH (PCONFIG targets) is beyond KVM's maximum basic leaf (16H),
 *    so it reads as leaf 16H, as Intel CPUs answer an out-of-range leaf;
 *  - leaf 0x40000000: the KVM signature "KVMKVMKVM\0\0\0", EAX = 0x40000001;
 *  - leaf 0x80000008: the host's *unreduced* MAXPHYADDR. With EPT, "reductions to the
 *    HPAs do not affect GPAs": the KeyID bits are ordinary guest-physical bits.
 */
import type { CpuidRegs } from '../hw/isa.js';
import { cpuid_count } from '../include/asm/processor.js';
import {
  KVM_CPUID_FLAG_SIGNIFCANT_INDEX, type kvm_cpuid_entry2,
} from '../../../include/uapi/linux/kvm.js';
import type { kvm_vcpu } from '../../../include/linux/kvm_host.js';

export const KVM_CPUID_SIGNATURE = 0x40000000;
export const KVM_CPUID_FEATURES = 0x40000001;
const X86_FEATURE_VMX = 1 << 5;
const X86_FEATURE_HYPERVISOR = 0x80000000;
const X86_FEATURE_TME = 1 << 13;
const X86_FEATURE_PCONFIG = 1 << 18;
/** "KVMKVMKVM\0\0\0" as EBX, ECX, EDX. */
const KVM_SIGNATURE = [0x4b4d564b, 0x564b4d56, 0x0000004d];
/** The highest basic leaf KVM reports: 16H (TSC frequency); 1BH is PCONFIG's, hidden. */
const KVM_MAX_BASIC_LEAF = 0x16;

function entry(fn: number, index: number, r: CpuidRegs, flags = 0): kvm_cpuid_entry2 {
  return { function: fn, index, flags, eax: r.eax >>> 0, ebx: r.ebx >>> 0, ecx: r.ecx >>> 0, edx: r.edx >>> 0 };
}

/** KVM_GET_SUPPORTED_CPUID: the host's leaves, filtered. */
export function kvm_get_supported_cpuid(): kvm_cpuid_entry2[] {
  const out: kvm_cpuid_entry2[] = [];
  const l0 = cpuid_count(0, 0);
  out.push(entry(0, 0, { ...l0, eax: Math.min(l0.eax, KVM_MAX_BASIC_LEAF) }));
  const l1 = cpuid_count(1, 0);
  out.push(entry(1, 0, { ...l1, ecx: ((l1.ecx & ~X86_FEATURE_VMX) | X86_FEATURE_HYPERVISOR) >>> 0 }));
  const l7 = cpuid_count(7, 0);
  out.push(entry(7, 0, { ...l7, ecx: l7.ecx & ~X86_FEATURE_TME, edx: l7.edx & ~X86_FEATURE_PCONFIG }, KVM_CPUID_FLAG_SIGNIFCANT_INDEX));
  for (const sub of [0, 1, 2]) out.push(entry(0xb, sub, cpuid_count(0xb, sub), KVM_CPUID_FLAG_SIGNIFCANT_INDEX));
  out.push(entry(0x16, 0, cpuid_count(0x16, 0)));
  out.push(entry(KVM_CPUID_SIGNATURE, 0, { eax: KVM_CPUID_FEATURES, ebx: KVM_SIGNATURE[0], ecx: KVM_SIGNATURE[1], edx: KVM_SIGNATURE[2] }));
  out.push(entry(KVM_CPUID_FEATURES, 0, { eax: 0, ebx: 0, ecx: 0, edx: 0 }));
  const e0 = cpuid_count(0x80000000, 0);
  out.push(entry(0x80000000, 0, e0));
  for (let fn = 0x80000001; fn <= Math.min(e0.eax, 0x80000008); fn++) out.push(entry(fn, 0, cpuid_count(fn, 0)));
  return out;
}

/** Validate KVM_SET_CPUID2 entries: true if each is a well-formed record. */
export function kvm_cpuid_entries_valid(entries: unknown): entries is kvm_cpuid_entry2[] {
  if (!Array.isArray(entries)) return false;
  const u32 = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffffffff;
  return entries.every((e) => e && typeof e === 'object' && ['function', 'index', 'flags', 'eax', 'ebx', 'ecx', 'edx']
    .every((k) => u32((e as Record<string, unknown>)[k])));
}

function find(entries: kvm_cpuid_entry2[], fn: number, index: number): kvm_cpuid_entry2 | undefined {
  return entries.find((e) => e.function === fn && (!(e.flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || e.index === index));
}

/**
 * kvm_cpuid: the guest's answer for (leaf, subleaf) from the vCPU's table. A leaf
 * beyond the maximum basic/extended leaf gets the highest basic leaf's data, as Intel
 * CPUs do (cpuid.c get_out_of_range_cpuid_entry); a missing leaf in range reads zero.
 */
export function kvm_cpuid(vcpu: kvm_vcpu, leaf: number, subleaf: number): CpuidRegs {
  // Without KVM_SET_CPUID2 the vCPU answers from KVM_GET_SUPPORTED_CPUID's table (made once).
  const entries = vcpu.arch.cpuid_entries ??= kvm_get_supported_cpuid();
  const maxBasic = find(entries, 0, 0)?.eax ?? 0;
  const maxExt = find(entries, 0x80000000, 0)?.eax ?? 0;
  const inRange = leaf <= maxBasic || (leaf >= 0x80000000 && leaf <= maxExt) ||
    (leaf >= KVM_CPUID_SIGNATURE && leaf <= KVM_CPUID_FEATURES);
  let e = inRange ? find(entries, leaf, subleaf) : find(entries, maxBasic, subleaf);
  if (!e) return { eax: 0, ebx: 0, ecx: 0, edx: 0 };
  e = { ...e };
  const id = vcpu.vcpu_id & 0xff;
  if (e.function === 1) e.ebx = ((e.ebx & 0x00ffffff) | (id << 24)) >>> 0;
  if (e.function === 0xb) e.edx = vcpu.vcpu_id >>> 0;
  return { eax: e.eax, ebx: e.ebx, ecx: e.ecx, edx: e.edx };
}
