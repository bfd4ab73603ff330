/**
 * MSR numbers and bit fields the kernel uses (Linux arch/x86/include/asm/msr-index.h).
 *
 * Mainline never put the TME MSRs in msr-index.h (MSR_IA32_TME_ACTIVATE is a local
 * #define in cpu/intel.c); they are collected here with the names Fares Mehanna's 2022
 * KVM patch (<20220203181432.34911-1-faresx@amazon.de>) and Jeremy Compostella's
 * 2023 "x86/cpu/intel: Clean-up TME code" proposed.
 */

export const MSR_IA32_TSC = 0x00000010;

/** The local APIC's base MSR and its bits (Linux msr-index.h, apicdef.h). */
export const MSR_IA32_APICBASE = 0x0000001b;
export const MSR_IA32_APICBASE_BSP = 1 << 8;
export const MSR_IA32_APICBASE_EXTD = 1 << 10; // x2APIC mode (Linux X2APIC_ENABLE)
export const MSR_IA32_APICBASE_ENABLE = 1 << 11;
export const APIC_DEFAULT_PHYS_BASE = 0xfee00000;
/** x2APIC registers as MSRs (0x800 + offset/16, SDM Vol. 3A §11.12.1): the ID and the ICR. */
export const MSR_X2APIC_ID = 0x00000802;
export const MSR_X2APIC_ICR = 0x00000830;

/** KeyID partitioning between MKTME and TDX (Linux arch/x86/virt/vmx/tdx/tdx.h; no TDX on this machine). */
export const MSR_IA32_MKTME_KEYID_PARTITIONING = 0x00000087;

export const MSR_IA32_TME_CAPABILITY = 0x00000981;
export const MSR_IA32_TME_ACTIVATE = 0x00000982;
export const MSR_IA32_TME_EXCLUDE_MASK = 0x00000983;
export const MSR_IA32_TME_EXCLUDE_BASE = 0x00000984;

// IA32_TME_ACTIVATE helpers (Linux cpu/intel.c; Compostella's field names).
/** Bit 0: lock (read-only, set by a committed WRMSR). */
export function TME_ACTIVATE_LOCKED(x: bigint): boolean { return (x & 0x1n) !== 0n; }
/** Bit 1: hardware encryption enable. */
export function TME_ACTIVATE_ENABLED(x: bigint): boolean { return (x & 0x2n) !== 0n; }
/** Bit 2 (mask): key select, 0 a new platform key, 1 the one saved for standby. */
export const TME_ACTIVATE_KEY_SELECT = 0x4n;
/** Bit 3: save the TME key for standby (S3), restore it on resume (Intel MKTME spec (336907-003, rev 1.3), IA32_TME_ACTIVATE). */
export function TME_ACTIVATE_SAVE_KEY(x: bigint): boolean { return (x & 0x8n) !== 0n; }
/** Bits 7:4: TME policy (an algorithm's bit index in IA32_TME_CAPABILITY). */
export function TME_ACTIVATE_POLICY(x: bigint): bigint { return (x >> 4n) & 0xfn; }
export const TME_ACTIVATE_POLICY_AES_XTS_128 = 0n;
/** Policy 2 (Intel MKTME spec (336907-003, rev 1.3), IA32_TME_ACTIVATE): not known to Linux
 * 2018-2024; this tree's mktme_aes_xts_256 option. */
export const TME_ACTIVATE_POLICY_AES_XTS_256 = 2n;
/** Bit 31: KeyID 0 bypasses encryption. */
export function TME_ACTIVATE_BYPASS(x: bigint): boolean { return (x & (1n << 31n)) !== 0n; }
/** Bits 35:32: MK_TME_KEYID_BITS. */
export function TME_ACTIVATE_KEYID_BITS(x: bigint): number { return Number((x >> 32n) & 0xfn); }
/** Bits 63:48: MK_TME_CRYPTO_ALGS (bit 48+n = algorithm n of IA32_TME_CAPABILITY). */
export function TME_ACTIVATE_CRYPTO_ALGS(x: bigint): bigint { return (x >> 48n) & 0xffffn; }
export const TME_ACTIVATE_CRYPTO_AES_XTS_128 = 1n;
/** AES-XTS-256 (bit 50): not known to Linux 2018-2024; this tree's mktme_aes_xts_256 option. */
export const TME_ACTIVATE_CRYPTO_AES_XTS_256 = 4n;
/** What detect_tme knows, as Linux defines it (intel.c): AES-XTS-128 only. */
export const TME_ACTIVATE_CRYPTO_KNOWN_ALGS = TME_ACTIVATE_CRYPTO_AES_XTS_128;

