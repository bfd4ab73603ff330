/**
 * Machine configuration: everything that shapes the emulated box, with the defaults of
 * the reference picture in the seed article (two sockets, one NUMA node each, NVRAM on
 * node 0). The firmware (BIOS) settings live here too, because they are what a board
 * vendor ships; the kernel sees none of this, only CPUID, MSRs and the memory map.
 */

export type AlgName = 'aes-xts-128' | 'aes-xts-256';

/** IA32_TME_CAPABILITY[15:0] bit index of each algorithm (Intel MKTME spec (336907-003, rev 1.3), IA32_TME_CAPABILITY). */
export const ALG_BIT: Record<AlgName, number> = { 'aes-xts-128': 0, 'aes-xts-256': 2 };

export interface CpuConfig {
  /** CPUID.7.0:ECX[13] TME_EN: the four TME MSRs exist. */
  tme: boolean;
  /** CPUID.7.0:EDX[18] PCONFIG. */
  pconfig: boolean;
  /** IA32_TME_CAPABILITY.MK_TME_MAX_KEYID_BITS (0 = no MKTME). */
  maxKeyIdBits: number;
  /** IA32_TME_CAPABILITY.MK_TME_MAX_KEYS (KeyID 0 not counted). */
  maxKeys: number;
  /** CPUID.80000008H:EAX[7:0]; unchanged by MKTME activation. */
  maxPhysAddr: number;
  /** Algorithms in IA32_TME_CAPABILITY[15:0]. */
  algs: AlgName[];
  /** IA32_TME_CAPABILITY[31] TME_ENC_BYPASS_SUPPORTED. */
  bypassSupported: boolean;
  /** 'sdm': current SDM PCONFIG (#GP for bad command/KeyID/alg); '1.3': spec rev 1.3 status codes 1/3/4. */
  pconfigRev: 'sdm' | '1.3';
  /** CPUID.7.0:ECX[28] MOVDIR64B (64-byte direct stores). Absent (off) by default: the
   *  default model, Ice Lake-SP, lacks it. */
  movdir64b?: boolean;
}

export interface BiosConfig {
  /** Write IA32_TME_ACTIVATE with Hardware Encryption Enable. */
  tme: boolean;
  /** Leave IA32_TME_ACTIVATE unwritten (and so unlocked) when false. */
  lock: boolean;
  /** IA32_TME_ACTIVATE.MK_TME_KEYID_BITS. */
  keyIdBits: number;
  /** IA32_TME_ACTIVATE.TME_POLICY. */
  policy: AlgName;
  /** IA32_TME_ACTIVATE.MK_TME_CRYPTO_ALGS. */
  algs: AlgName[];
  /** IA32_TME_ACTIVATE[31]: KeyID 0 bypasses encryption. */
  bypass: boolean;
  /** TME exclusion range (KeyID 0 only); size a power of two, base aligned to it. */
  exclude: { base: number; size: number } | null;
  /** Program package 1.. with a different KeyID-bit count than package 0. */
  inconsistent: boolean;
  /** IA32_TME_ACTIVATE[3]: save the platform key for standby (S3) resume. */
  saveKey: boolean;
  /** VT-d enabled: the BIOS publishes a DMAR table (the unit exists either way). */
  vtd: boolean;
}

export interface MachineConfig {
  /** Seed of the machine's RNG: every key, every replacement choice derives from it. */
  seed: number;
  packages: number;
  cpusPerPackage: number;
  /** DRAM per NUMA node, bytes. One node per package. */
  memPerNode: number;
  /** NVRAM (persistent memory) on node 0, bytes; 0 for none. */
  nvramSize: number;
  /** Host file that keeps NVRAM contents across processes; null keeps it in memory. */
  nvramFile: string | null;
  /** Per-package last-level cache. */
  cacheBytes: number;
  cacheWays: number;
  /** Per-CPU TLB entries (fully associative). */
  tlbEntries: number;
  cpu: CpuConfig;
  bios: BiosConfig;
  /** virtio-blk disks, at PCI 00:03.0, 00:04.0, ... */
  disks: DiskConfig[];
}

/** One disk: a sparse image or a host file; the address bits its DMA can drive. */
export interface DiskConfig { file: string | null; size: number; dmaBits: 32 | 64 }

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

export function defaultConfig(): MachineConfig {
  return {
    seed: 1,
    packages: 2,
    cpusPerPackage: 2,
    memPerNode: 128 * MiB,
    nvramSize: 64 * MiB,
    nvramFile: null,
    cacheBytes: 256 * 1024,
    cacheWays: 8,
    tlbEntries: 64,
    cpu: {
      tme: true,
      pconfig: true,
      maxKeyIdBits: 6,
      maxKeys: 63,
      maxPhysAddr: 46,
      algs: ['aes-xts-128', 'aes-xts-256'],
      bypassSupported: true,
      pconfigRev: 'sdm',
    },
    bios: {
      tme: true,
      lock: true,
      keyIdBits: 6,
      policy: 'aes-xts-128',
      algs: ['aes-xts-128', 'aes-xts-256'],
      bypass: false,
      exclude: null,
      inconsistent: false,
      saveKey: false,
      vtd: true,
    },
    disks: [{ file: null, size: 16 * MiB, dmaBits: 64 }],
  };
}

/** A deep copy of `base` with `patch` applied (cpu and bios merged field by field). */
export function makeConfig(patch: Partial<Omit<MachineConfig, 'cpu' | 'bios'>> & {
  cpu?: Partial<CpuConfig>;
  bios?: Partial<BiosConfig>;
} = {}, base: MachineConfig = defaultConfig()): MachineConfig {
  return {
    ...base,
    ...patch,
    cpu: { ...base.cpu, ...patch.cpu, algs: [...(patch.cpu?.algs ?? base.cpu.algs)] },
    bios: { ...base.bios, ...patch.bios, algs: [...(patch.bios?.algs ?? base.bios.algs)] },
    disks: (patch.disks ?? base.disks).map((d) => ({ ...d })),
  };
}
