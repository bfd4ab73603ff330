/**
 * Shared rig for the mm tests: build a machine and run the part of start_kernel that
 * brings memory up (printk, CPUs, MKTME parameters as detect_tme would set them,
 * memblock, kernel page tables, buddy allocator), plus a PCONFIG key programmer.
 */
import { ALG_BIT, makeConfig, type MachineConfig } from '../../arch/x86/hw/config.js';
import type { BootParams } from '../../arch/x86/hw/isa.js';
import { Machine } from '../../arch/x86/hw/machine.js';
import {
  memcpy_toio, on_each_cpu, pconfig, set_cpu_possible, smp_call_function_single,
} from '../../arch/x86/include/asm/processor.js';
import { init_mem_mapping, load_kernel_pgtable } from '../../arch/x86/mm/init.js';
import { mktme_init, mktme_set_params } from '../../arch/x86/mm/mktme.js';
import { setup_boot_params } from '../../kernel/params.js';
import { page_address } from '../../arch/x86/include/asm/page.js';
import { printk_init } from '../../kernel/printk.js';
import { memblock_setup } from '../../mm/memblock.js';
import { GFP_KERNEL, __free_pages, alloc_pages, mem_init } from '../../mm/page_alloc.js';

export type ConfigPatch = Parameters<typeof makeConfig>[0];

export interface Booted { machine: Machine; bp: BootParams; console: string[] }

export interface BootOpts { memLimit?: number | null; noflush?: boolean; mktme?: boolean }

/** Power on a machine and bring memory management up on it. */
export function bootMm(patch: ConfigPatch = {}, opts: BootOpts = {}): Booted {
  const machine = new Machine(makeConfig(patch));
  const bp = machine.bootParams('');
  const console: string[] = [];
  printk_init((l) => console.push(l));
  set_cpu_possible(bp.cpus);
  setup_boot_params(opts.noflush ? 'mktme.noflush' : '');
  mktme_init();
  const cfg: MachineConfig = machine.cfg;
  const bits = cfg.bios.keyIdBits;
  if ((opts.mktme ?? true) && cfg.cpu.tme && cfg.bios.tme && bits > 0) {
    let algs = 0;
    for (const a of cfg.bios.algs) algs |= 1 << ALG_BIT[a];
    mktme_set_params(2 ** bits - 1, cfg.cpu.maxPhysAddr - bits, bits, algs);
  }
  memblock_setup(bp.e820, bp.memAffinity, opts.memLimit ?? null);
  init_mem_mapping();
  on_each_cpu(() => load_kernel_pgtable()); // the APs, as smpboot would
  mem_init();
  return { machine, bp, console };
}

/** PCONFIG KEYID_SET_KEY_DIRECT (AES-XTS-128) for `keyid` on every package. */
export function programKey(b: Booted, keyid: number, seed: number): void {
  const pfn = alloc_pages(GFP_KERNEL, 0);
  const s = new Uint8Array(256);
  s[0] = keyid & 0xff; s[1] = keyid >> 8;
  s[2] = 0;          // KEYID_SET_KEY_DIRECT
  s[3] = 1;          // ENC_ALG bit 0: AES-XTS-128
  for (let i = 0; i < 16; i++) { s[64 + i] = (seed * 31 + i * 7) & 0xff; s[128 + i] = (seed * 17 + i * 13 + 1) & 0xff; }
  memcpy_toio(page_address(pfn), s);
  const done = new Set<number>();
  b.bp.cpus.forEach((_, cpu) => {
    const node = b.bp.cpuNode[cpu];
    if (done.has(node)) return;
    done.add(node);
    const r = smp_call_function_single(cpu, () => pconfig(0, page_address(pfn)));
    if (r.zf) throw new Error(`pconfig failed: ${r.rax}`);
  });
  __free_pages(pfn, 0);
}
