/**
 * The BIOS: what runs before the kernel. It reports the memory map (e820, SRAT-like
 * affinity) and, at power-on and on S3 resume, programs each package's TME MSRs through
 * the same WRMSR a kernel would use (Intel MKTME spec (336907-003, rev 1.3), IA32_TME_ACTIVATE, §1.4, §4).
 *
 * Power-on sequence per package (cfg.bios):
 *  - lock = false: write nothing; IA32_TME_ACTIVATE stays unlocked and TME off.
 *  - CPU without TME (cfg.cpu.tme false): the MSRs do not exist; nothing is written.
 *  - Exclusion range: IA32_TME_EXCLUDE_BASE, then IA32_TME_EXCLUDE_MASK with Enable
 *    (bit 11), so the range is never enabled over a stale base. Both must precede
 *    IA32_TME_ACTIVATE (SDM Vol. 4 note).
 *  - tme = false: IA32_TME_ACTIVATE with enable = 0, which locks TME disabled.
 *  - tme = true: enable, policy, save-key, bypass, KeyID bits and crypto algs. With
 *    `inconsistent`, packages after 0 get keyIdBits - 1 (or + 1 when keyIdBits is 0).
 * A #GP from any write (an invalid BIOS setting) is caught and reported as a warning,
 * leaving that package as the failed write left it, as a real BIOS would log and go on.
 */
import { ALG_BIT, type MachineConfig } from './config.js';
import {
  E820_TYPE_PMEM, E820_TYPE_RAM, E820_TYPE_RESERVED, isFault,
  type E820Entry, type MemAffinity,
} from './isa.js';
import type { PhysRange } from './memmap.js';
import {
  MSR_IA32_TME_ACTIVATE, MSR_IA32_TME_EXCLUDE_BASE, MSR_IA32_TME_EXCLUDE_MASK,
  TME_ACTIVATE_BYPASS, TME_ACTIVATE_ENABLE, TME_ACTIVATE_KEY_SELECT, TME_ACTIVATE_LOCK,
  TME_ACTIVATE_SAVE_KEY, TME_EXCLUDE_ENABLE, writeMsr,
} from './msr.js';
import type { Package } from './package.js';

/** e820 from the board's ranges: firmware-reserved DRAM, usable DRAM, NVRAM as PMEM. */
export function buildE820(map: PhysRange[]): E820Entry[] {
  return map
    .map((r) => ({
      addr: r.base,
      size: r.size,
      type: r.reserved ? E820_TYPE_RESERVED : r.kind === 'nvram' ? E820_TYPE_PMEM : E820_TYPE_RAM,
    }))
    .sort((a, b) => a.addr - b.addr);
}

/** SRAT-like memory affinity: every range (reserved ones too) with its node. */
export function buildMemAffinity(map: PhysRange[]): MemAffinity[] {
  return map
    .map((r) => ({ base: r.base, size: r.size, node: r.node }))
    .sort((a, b) => a.base - b.base);
}

/** MK_TME_KEYID_BITS the BIOS programs into package `index`. */
export function biosKeyIdBits(cfg: MachineConfig, index: number): number {
  const k = cfg.bios.keyIdBits;
  if (!cfg.bios.inconsistent || index === 0) return k;
  return k > 0 ? k - 1 : Math.min(k + 1, cfg.cpu.maxKeyIdBits);
}

/** The IA32_TME_ACTIVATE value the BIOS writes to package `index`. */
export function biosActivateValue(cfg: MachineConfig, index: number, restore: boolean): bigint {
  const b = cfg.bios;
  let v = BigInt(ALG_BIT[b.policy]) << 4n;                       // 7:4 TME_POLICY
  if (!b.tme) return v;                                          // enable = 0: lock TME off
  v |= TME_ACTIVATE_ENABLE;                                      // 1 enable
  if (restore) v |= TME_ACTIVATE_KEY_SELECT;                     // 2 restore saved key
  if (b.saveKey) v |= TME_ACTIVATE_SAVE_KEY;                     // 3 save key for standby
  if (b.bypass) v |= TME_ACTIVATE_BYPASS;                        // 31 KeyID 0 bypass
  v |= BigInt(biosKeyIdBits(cfg, index) & 0xf) << 32n;           // 35:32 MK_TME_KEYID_BITS
  // 63:48 MK_TME_CRYPTO_ALGS; "reserved if MKTME is not enumerated", so left clear then.
  if (cfg.cpu.maxKeyIdBits > 0) {
    let algs = 0;
    for (const a of b.algs) algs |= 1 << ALG_BIT[a];
    v |= BigInt(algs) << 48n;
  }
  return v;
}

/** IA32_TME_EXCLUDE_MASK / _BASE values for cfg.bios.exclude, or null for none. */
export function biosExcludeValues(cfg: MachineConfig): { mask: bigint; base: bigint } | null {
  const ex = cfg.bios.exclude;
  if (!ex) return null;
  const top = (1n << BigInt(cfg.cpu.maxPhysAddr)) - 1n;
  // mask = ~(size - 1) over MAXPHYADDR bits, bits 11:0 clear, then Enable (bit 11).
  const mask = (top & ~(BigInt(ex.size) - 1n) & ~0xfffn) | TME_EXCLUDE_ENABLE;
  return { mask, base: BigInt(ex.base) };
}

/** Power-on: program every package's TME MSRs. Returns the BIOS's warnings. */
export function runBios(cfg: MachineConfig, pkgs: Package[]): string[] {
  const warnings: string[] = [];
  for (const pkg of pkgs) programPackage(cfg, pkg, false, warnings);
  return warnings;
}

/**
 * S3 resume: the packages were reset keeping their saved keys; program the MSRs again
 * with KEY_SELECT = 1 so each engine restores its saved platform key.
 */
export function resumeBios(cfg: MachineConfig, pkgs: Package[]): string[] {
  const warnings: string[] = [];
  for (const pkg of pkgs) programPackage(cfg, pkg, true, warnings);
  return warnings;
}

function programPackage(cfg: MachineConfig, pkg: Package, restore: boolean, warnings: string[]): void {
  if (!cfg.bios.lock) return;
  const where = `BIOS: package ${pkg.index}`;
  if (!cfg.cpu.tme) {
    if (cfg.bios.tme) warnings.push(`${where}: TME requested but not supported by the CPU`);
    return;
  }
  const ex = biosExcludeValues(cfg);
  if (ex) {
    const ok = tryWrite(cfg, pkg, MSR_IA32_TME_EXCLUDE_BASE, ex.base, where, warnings)
      && tryWrite(cfg, pkg, MSR_IA32_TME_EXCLUDE_MASK, ex.mask, where, warnings);
    if (!ok) warnings.push(`${where}: TME exclusion range not set`);
  }
  if (!tryWrite(cfg, pkg, MSR_IA32_TME_ACTIVATE, biosActivateValue(cfg, pkg.index, restore), where, warnings)) {
    warnings.push(`${where}: TME not activated`);
    return;
  }
  if (cfg.bios.tme && !(pkg.tmeActivate & TME_ACTIVATE_LOCK)) {
    warnings.push(restore
      ? `${where}: TME key restore failed (zero key); TME not activated`
      : `${where}: TME key generation failed (RNG); TME not activated`);
  }
}

/** WRMSR as the BIOS does it: a #GP becomes a warning. */
function tryWrite(cfg: MachineConfig, pkg: Package, msr: number, value: bigint, where: string,
  warnings: string[]): boolean {
  try {
    writeMsr(cfg, pkg, msr, value);
    return true;
  } catch (e) {
    if (!isFault(e)) throw e;
    warnings.push(`${where}: wrmsr 0x${msr.toString(16)} = 0x${value.toString(16)} faulted: ${e.why}`);
    return false;
  }
}
