/**
 * The board: wires memory, packages, caches and CPUs together and runs the firmware,
 * in QEMU's order (memory, then CPUs, then the firmware's work). It also owns the
 * power button: warm reset, cold power cycle (DRAM contents survive for a while, which
 * is what a cold-boot attacker exploits) and S3 standby.
 *
 * A kernel is handed `bootParams()` and nothing else. The physical probe and the
 * counters belong to whoever holds the Machine (tests, the shell), not to software
 * running on it.
 */
import { CacheSystem } from './cache.js';
import { Clock } from './clock.js';
import type { MachineConfig } from './config.js';
import { Counters } from './counters.js';
import { Cpu } from './cpu.js';
import { SparseMemory } from './dram.js';
import { buildE820, buildMemAffinity, resumeBios, runBios } from './firmware.js';
import type { BootParams } from './isa.js';
import { buildMemMap, type PhysRange } from './memmap.js';
import { MemorySystem } from './memsys.js';
import { Package } from './package.js';
import { PhysicalProbe } from './probe.js';
import { Rng } from './rng.js';
import { buildDmar, buildMcfg } from './iommu/dmar.js';
import { VtdUnit } from './iommu/vtd.js';
import { PciFunction } from './pci/device.js';
import { DmaPort } from './pci/dma.js';
import { PciHost } from './pci/host.js';
import { fixedRegion, MmioBus } from './pci/mmio.js';
import { VirtioBlk } from './virtio_blk.js';

/** First slot of the disks: 00:03.0, as QEMU places its first virtio-blk-pci. */
export const FIRST_DISK_SLOT = 3;
import { VmxPlatform } from './vmx/platform.js';

export class Machine {
  readonly rng: Rng;
  readonly clock = new Clock();
  readonly counters = new Counters();
  readonly map: PhysRange[];
  readonly packages: Package[];
  readonly mem: MemorySystem;
  readonly caches: CacheSystem;
  readonly cpus: Cpu[];
  readonly probe: PhysicalProbe;
  /** VMX's machine-wide state: text table, I/O ports, per-VMCS processor state. */
  readonly vmx = new VmxPlatform();
  private readonly stores: SparseMemory[];
  /** I/O: the PCI hole's decoder, the host bridge, the IOMMU, the disks. */
  readonly mmio = new MmioBus();
  readonly pci = new PciHost();
  readonly vtd: VtdUnit;
  readonly dma: DmaPort;
  readonly disks: VirtioBlk[];
  /** Warnings the firmware printed at the last power-on. */
  biosWarnings: string[] = [];
  /** Power-on count: 1 after construction. */
  boots = 0;

  constructor(readonly cfg: MachineConfig) {
    this.rng = new Rng(cfg.seed);
    this.map = buildMemMap(cfg);
    this.stores = this.map.map((r) => new SparseMemory(r.size, r.kind === 'nvram' ? cfg.nvramFile : null));
    const keyRng = this.rng.fork();
    this.packages = Array.from({ length: cfg.packages }, (_, i) => new Package(i, cfg, keyRng));
    this.mem = new MemorySystem(this.map, this.stores, this.packages, this.clock);
    this.caches = new CacheSystem(cfg.packages, cfg.cacheBytes, cfg.cacheWays, this.mem, this.clock, this.counters);
    this.cpus = [];
    for (let p = 0; p < cfg.packages; p++) {
      for (let t = 0; t < cfg.cpusPerPackage; t++) {
        this.cpus.push(new Cpu(this.cpus.length, this.packages[p], t, cfg, this.caches, this.clock, this.counters,
          this.vmx));
      }
    }
    this.probe = new PhysicalProbe(this.mem);
    this.vtd = new VtdUnit(this.caches, cfg.cpu.maxPhysAddr);
    this.dma = new DmaPort(this.caches, this.clock, cfg.cpu.maxPhysAddr, 0, this.vtd);
    this.pci.plug(new PciFunction(0, 0, 0, { // Q35 host bridge, as QEMU shows it
      vendor: 0x8086, device: 0x29c0, classCode: 0x060000, revision: 0, subVendor: 0x1af4, subDevice: 0x1100,
      interruptPin: 0,
    }));
    this.disks = cfg.disks.map((d, i) => new VirtioBlk(FIRST_DISK_SLOT + i, d, this.dma));
    for (const d of this.disks) this.pci.plug(d.pci);
    this.mmio.add(this.pci);
    this.mmio.add(fixedRegion(this.vtd.region));
    for (const c of this.cpus) c.mmio = this.mmio;
    this.powerOn(false);
  }

  /** Reset every CPU and package, then let the BIOS activate TME. */
  private powerOn(keepSavedKey: boolean, resume = false): void {
    this.clock.reset();
    for (const p of this.packages) p.reset(keepSavedKey);
    for (const c of this.cpus) c.reset();
    this.vtd.reset();
    for (const d of this.disks) d.reset();
    this.pci.reset();
    this.pci.assignResources();
    this.biosWarnings = resume ? resumeBios(this.cfg, this.packages) : runBios(this.cfg, this.packages);
    this.boots++;
  }

  /** What the firmware hands to the kernel it loads. */
  bootParams(cmdline = ''): BootParams {
    return {
      e820: buildE820(this.map),
      memAffinity: buildMemAffinity(this.map),
      cpus: this.cpus,
      cpuNode: this.cpus.map((c) => c.pkg.index),
      cmdline,
      mcfg: buildMcfg(),
      dmar: this.cfg.bios.vtd ? buildDmar(this.cfg.cpu.maxPhysAddr) : null,
    };
  }

  /** Cold power cycle: what the caches held is lost without write-back, only the
   *  DIMMs' remanence keeps DRAM (modelled as perfect), and the BIOS makes a new
   *  platform key (KEY_SELECT = 0 on every boot). */
  powerCycle(): void {
    this.caches.loseAll();
    this.powerOn(false);
  }

  /** Warm reset (reboot). To memory it is the same as a power cycle here: caches
   *  invalidated, DRAM kept, a new platform key; the kernel writes back before it. */
  reset(): void { this.powerCycle(); }

  /** S3 standby and resume: DRAM in self-refresh, CPU state lost; the BIOS restores
   *  the platform key if it was saved for standby (IA32_TME_ACTIVATE[3]). */
  suspendResume(): void {
    this.caches.loseAll();
    this.powerOn(true, true);
  }

  /** Host resources: DIMM frames allocated (4 KiB each). */
  framesInUse(): number {
    this.mem.quiesce(); // queued write-backs are already in DRAM as far as anyone can tell
    return this.stores.reduce((n, s) => n + s.framesInUse, 0);
  }

  /** Release host files (NVRAM, disk images), after the memory controllers' queues have drained. */
  close(): void {
    this.mem.quiesce();
    for (const s of this.stores) s.close();
    for (const d of this.disks) d.medium.close();
  }
}
