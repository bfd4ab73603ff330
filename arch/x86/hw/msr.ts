/**
 * The machine's model-specific registers: RDMSR / WRMSR for the time-stamp counter and
 * the four package-scoped TME MSRs (Intel MKTME spec (336907-003, rev 1.3), the TME MSRs). Every refused access is #GP(0).
 *
 * - 0x10  IA32_TIME_STAMP_COUNTER: read returns the CPU's TSC. Writing the TSC is not
 *         modelled on this machine: WRMSR 0x10 raises #GP(0).
 * - 0x981 IA32_TME_CAPABILITY (read-only), built from cfg.cpu.
 * - 0x982 IA32_TME_ACTIVATE: the spec's WRMSR response table (rev 1.3 Table 4-3).
 * - 0x983 IA32_TME_EXCLUDE_MASK / 0x984 IA32_TME_EXCLUDE_BASE (rev 1.3 Tables 4-5/4-6).
 * - With CPUID.7.0:ECX[13] TME_EN clear (cfg.cpu.tme false) all four TME MSRs #GP.
 * - Any other MSR: #GP(0).
 */
import { ALG_BIT, type AlgName, type MachineConfig } from './config.js';
import { Fault, X86_TRAP_GP } from './isa.js';
import type { Package } from './package.js';

export const MSR_IA32_TIME_STAMP_COUNTER = 0x10;
export const MSR_IA32_TME_CAPABILITY = 0x981;
export const MSR_IA32_TME_ACTIVATE = 0x982;
export const MSR_IA32_TME_EXCLUDE_MASK = 0x983;
export const MSR_IA32_TME_EXCLUDE_BASE = 0x984;

// IA32_TME_CAPABILITY fields (Intel MKTME spec (336907-003, rev 1.3), IA32_TME_CAPABILITY).
export const TME_CAP_BYPASS_SUPPORTED = 1n << 31n; // bit 31
// IA32_TME_ACTIVATE fields (Intel MKTME spec (336907-003, rev 1.3), IA32_TME_ACTIVATE).
export const TME_ACTIVATE_LOCK = 1n << 0n;       // bit 0, RO: set by a committed WRMSR
export const TME_ACTIVATE_ENABLE = 1n << 1n;     // bit 1, Hardware Encryption Enable
export const TME_ACTIVATE_KEY_SELECT = 1n << 2n; // bit 2, 1 = restore the saved key
export const TME_ACTIVATE_SAVE_KEY = 1n << 3n;   // bit 3, save key for standby
export const TME_ACTIVATE_BYPASS = 1n << 31n;    // bit 31, KeyID 0 bypass
// IA32_TME_EXCLUDE_MASK bit 11 Enable (Intel MKTME spec (336907-003, rev 1.3), IA32_TME_EXCLUDE_MASK/BASE).
export const TME_EXCLUDE_ENABLE = 1n << 11n;

/** IA32_TME_ACTIVATE[7:4] TME_POLICY: a bit index into CAPABILITY[15:0] (Intel MKTME spec (336907-003, rev 1.3), IA32_TME_ACTIVATE). */
function actPolicy(v: bigint): number { return Number((v >> 4n) & 0xfn); }
/** IA32_TME_ACTIVATE[35:32] MK_TME_KEYID_BITS (Intel MKTME spec (336907-003, rev 1.3), IA32_TME_ACTIVATE). */
export function actKeyIdBits(v: bigint): number { return Number((v >> 32n) & 0xfn); }
/** IA32_TME_ACTIVATE[63:48] MK_TME_CRYPTO_ALGS, same bit order as CAPABILITY[15:0] (Intel MKTME spec (336907-003, rev 1.3), IA32_TME_ACTIVATE). */
export function actAlgs(v: bigint): number { return Number((v >> 48n) & 0xffffn); }

/** CAPABILITY[15:0] as a bit mask of the algorithms this CPU implements (Intel MKTME spec (336907-003, rev 1.3), IA32_TME_CAPABILITY). */
function capAlgMask(cfg: MachineConfig): number {
  let m = 0;
  for (const a of cfg.cpu.algs) m |= 1 << ALG_BIT[a];
  return m;
}

/** The algorithm whose CAPABILITY bit index is `bit`, or null. */
function algOfBit(bit: number): AlgName | null {
  for (const [name, b] of Object.entries(ALG_BIT)) if (b === bit) return name as AlgName;
  return null;
}

/** The value RDMSR 0x981 returns. */
function tmeCapability(cfg: MachineConfig): bigint {
  let v = BigInt(capAlgMask(cfg));                             // bits 15:0 algorithms
  if (cfg.cpu.bypassSupported) v |= TME_CAP_BYPASS_SUPPORTED;  // bit 31
  v |= BigInt(cfg.cpu.maxKeyIdBits & 0xf) << 32n;              // bits 35:32 MK_TME_MAX_KEYID_BITS
  v |= BigInt(cfg.cpu.maxKeys & 0x7fff) << 36n;                // bits 50:36 MK_TME_MAX_KEYS
  return v;
}

function gp(why: string): Fault { return new Fault(X86_TRAP_GP, 0, 0, why); }

/** Ones in bits hi-1 .. lo. */
function bits(hi: number, lo: number): bigint {
  return ((1n << BigInt(hi)) - 1n) & ~((1n << BigInt(lo)) - 1n);
}

export function readMsr(cfg: MachineConfig, pkg: Package, msr: number, tsc: number): bigint {
  switch (msr) {
    case MSR_IA32_TIME_STAMP_COUNTER:
      return BigInt(Math.floor(tsc));
    case MSR_IA32_TME_CAPABILITY:
    case MSR_IA32_TME_ACTIVATE:
    case MSR_IA32_TME_EXCLUDE_MASK:
    case MSR_IA32_TME_EXCLUDE_BASE:
      if (!cfg.cpu.tme) throw gp(`rdmsr ${hex(msr)}: TME not enumerated`);
      if (msr === MSR_IA32_TME_CAPABILITY) return tmeCapability(cfg);
      if (msr === MSR_IA32_TME_ACTIVATE) return pkg.tmeActivate;
      return msr === MSR_IA32_TME_EXCLUDE_MASK ? pkg.excludeMask : pkg.excludeBase;
    default:
      throw gp(`rdmsr ${hex(msr)}: no such MSR`);
  }
}

export function writeMsr(cfg: MachineConfig, pkg: Package, msr: number, value: bigint): void {
  if (value < 0n || value >= 1n << 64n) throw gp(`wrmsr ${hex(msr)}: value is not 64-bit`);
  switch (msr) {
    case MSR_IA32_TIME_STAMP_COUNTER:
      throw gp('wrmsr 0x10: writing the TSC is not supported on this machine');
    case MSR_IA32_TME_CAPABILITY:
      if (!cfg.cpu.tme) throw gp('wrmsr 0x981: TME not enumerated');
      throw gp('wrmsr 0x981: IA32_TME_CAPABILITY is read-only');
    case MSR_IA32_TME_ACTIVATE:
      writeActivate(cfg, pkg, value);
      return;
    case MSR_IA32_TME_EXCLUDE_MASK:
    case MSR_IA32_TME_EXCLUDE_BASE:
      writeExclude(cfg, pkg, msr, value);
      return;
    default:
      throw gp(`wrmsr ${hex(msr)}: no such MSR`);
  }
}

/**
 * The bits of IA32_TME_ACTIVATE this machine reserves (Intel MKTME spec (336907-003, rev 1.3), IA32_TME_ACTIVATE):
 *  - 30:8 reserved (rev 1.3; bit 8 SGX_TEM_ENABLE is a later addition, not modelled);
 *  - 31 reserved when CAPABILITY[31] bypass is not supported;
 *  - 35:32 and 63:48 "reserved if MKTME is not enumerated" (MAX_KEYID_BITS = 0);
 *  - 47:36 reserved (39:36 TDX_RESERVED_KEYID_BITS: no TDX on this machine).
 * MK_TME_CRYPTO_ALGS is checked separately so its #GP says why.
 */
function activateReserved(cfg: MachineConfig): bigint {
  let r = bits(31, 8) | bits(48, 36);
  if (!cfg.cpu.bypassSupported) r |= TME_ACTIVATE_BYPASS;
  if (cfg.cpu.maxKeyIdBits === 0) r |= bits(36, 32) | bits(64, 48);
  return r;
}

/** IA32_TME_ACTIVATE WRMSR: rev 1.3 Table 4-3, row by row. */
function writeActivate(cfg: MachineConfig, pkg: Package, value: bigint): void {
  if (!cfg.cpu.tme) throw gp('wrmsr 0x982: TME not enumerated');
  // Lock CONFLICT (Intel MKTME spec (336907-003, rev 1.3), IA32_TME_ACTIVATE): rev 1.3 Table 4-3 says #GP; the SDM Vol. 4 text says writes
  // after lock are "ignored". This machine follows the spec table: #GP.
  if (pkg.tmeActivate & TME_ACTIVATE_LOCK) throw gp('wrmsr 0x982: IA32_TME_ACTIVATE is locked');
  if (value & activateReserved(cfg)) throw gp('wrmsr 0x982: reserved bit set');
  const policy = actPolicy(value);
  if (((capAlgMask(cfg) >>> policy) & 1) === 0) {
    throw gp(`wrmsr 0x982: policy ${policy} not in IA32_TME_CAPABILITY`);
  }
  const keyIdBits = actKeyIdBits(value);
  if (keyIdBits > cfg.cpu.maxKeyIdBits) throw gp('wrmsr 0x982: MK_TME_KEYID_BITS > MK_TME_MAX_KEYID_BITS');
  const enable = (value & TME_ACTIVATE_ENABLE) !== 0n;
  if (keyIdBits > 0 && !enable) throw gp('wrmsr 0x982: MK_TME_KEYID_BITS > 0 with enable = 0');
  // MK_TME_CRYPTO_ALGS: 63:51 reserved (rev 1.3). Bit 49 (AES-XTS-128 with integrity) and
  // any other algorithm this CPU does not enumerate in CAPABILITY[15:0] are reserved on
  // this machine too: #GP. (The spec only says "reserved bit set -> #GP"; treating an
  // unimplemented algorithm as reserved keeps PCONFIG from selecting it later.)
  // No rule requires a non-zero algorithm set with MKTME on; PCONFIG then always #GPs.
  if (actAlgs(value) & ~capAlgMask(cfg)) throw gp('wrmsr 0x982: reserved MK_TME_CRYPTO_ALGS bit set');

  // The lock bit is read-only: the written bit 0 is ignored.
  const v = value & ~TME_ACTIVATE_LOCK;
  if (!enable) {
    // enable = 0: TME disabled, MSR locked; reads back x..x01b.
    pkg.engine.deactivate();
    pkg.tmeActivate = v | TME_ACTIVATE_LOCK;
    commitExclusion(cfg, pkg);
    return;
  }
  const alg = algOfBit(policy);
  if (alg === null) throw gp(`wrmsr 0x982: policy ${policy} not implemented`); // unreachable: checked above
  const restore = (value & TME_ACTIVATE_KEY_SELECT) !== 0n;
  const result = pkg.engine.activate({
    policy: alg,
    bypass: (value & TME_ACTIVATE_BYPASS) !== 0n,
    keyIdBits,
    restore,
    save: (value & TME_ACTIVATE_SAVE_KEY) !== 0n,
  });
  if (result === 'ok') {
    // x..x011b (new key) or x..x111b (restored key): enabled and locked.
    pkg.tmeActivate = v | TME_ACTIVATE_LOCK;
    commitExclusion(cfg, pkg);
    return;
  }
  // RNG failure (x..x000b) or a zero key restored (x..x100b): not enabled, not locked.
  // "MK_TME_KEYID_BITS > 0 and TME was not activated: the write is not committed", so the
  // KeyID bits read back as 0; the other written bits (KEY_SELECT among them) stay.
  pkg.engine.deactivate();
  pkg.tmeActivate = v & ~(TME_ACTIVATE_ENABLE | bits(36, 32));
}

/** Hand the (now locked) exclusion range to the engine. */
function commitExclusion(cfg: MachineConfig, pkg: Package): void {
  const addr = bits(cfg.cpu.maxPhysAddr, 12);
  pkg.engine.setExclusion(
    Number(pkg.excludeBase & addr),
    Number(pkg.excludeMask & addr),
    (pkg.excludeMask & TME_EXCLUDE_ENABLE) !== 0n,
  );
}

/** IA32_TME_EXCLUDE_MASK / _BASE WRMSR (rev 1.3 Tables 4-5/4-6). */
function writeExclude(cfg: MachineConfig, pkg: Package, msr: number, value: bigint): void {
  const name = msr === MSR_IA32_TME_EXCLUDE_MASK ? 'IA32_TME_EXCLUDE_MASK' : 'IA32_TME_EXCLUDE_BASE';
  if (!cfg.cpu.tme) throw gp(`wrmsr ${hex(msr)}: TME not enumerated`);
  // "If lock=1, WRMSR to IA32_TME_EXCLUDE_MASK/BASE will result in #GP" (rev 1.3).
  if (pkg.tmeActivate & TME_ACTIVATE_LOCK) throw gp(`wrmsr ${hex(msr)}: ${name} is locked`);
  const maxPa = cfg.cpu.maxPhysAddr;
  // 63:MAXPHYADDR reserved (both); 10:0 reserved (mask) / 11:0 reserved (base).
  const reserved = bits(64, maxPa) | (msr === MSR_IA32_TME_EXCLUDE_MASK ? bits(11, 0) : bits(12, 0));
  if (value & reserved) throw gp(`wrmsr ${hex(msr)}: reserved bit set`);
  if (msr === MSR_IA32_TME_EXCLUDE_BASE) { pkg.excludeBase = value; return; }
  // TMEEMASK (MAXPHYADDR-1:12) must be contiguous: ones from the top, then zeros.
  const field = value >> 12n;
  const holes = ~field & ((1n << BigInt(maxPa - 12)) - 1n); // zeros of the field, as ones
  if ((holes & (holes + 1n)) !== 0n) throw gp('wrmsr 0x983: TMEEMASK is not contiguous');
  pkg.excludeMask = value;
}

function hex(n: number): string { return '0x' + n.toString(16); }
