/**
 * The one boot rig for every test that boots a kernel: build a machine from options,
 * run start_kernel on it (the whole boot, initcalls included, exactly as the shell
 * boots), and look at the result. A test never repeats part of the boot order itself.
 *
 *   const { machine, init, log } = bootKernel({ memPerNode: 64 * MiB, cmdline: 'mem=32M' });
 *
 * Options are the machine's (makeConfig's patch: seed, nodes, cpusPerPackage, memPerNode,
 * nvramSize, cpu: {...}, bios: {...}) plus `cmdline`, the kernel command line.
 */
import { makeConfig } from '../../arch/x86/hw/config.js';
import type { BootParams } from '../../arch/x86/hw/isa.js';
import { Machine } from '../../arch/x86/hw/machine.js';
import { memcpy_toio, pconfig, smp_call_function_single } from '../../arch/x86/include/asm/processor.js';
import { page_address } from '../../arch/x86/include/asm/page.js';
import { start_kernel } from '../../init/main.js';
import { log_records } from '../../kernel/printk.js';
import { find_task_by_vpid, type task_struct } from '../../kernel/sched.js';
import { GFP_KERNEL, __free_pages, alloc_pages } from '../../mm/page_alloc.js';
import { PG_reserved, page_flags, page_refcount } from '../../mm/page.js';

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;
export const TiB = 1024 * GiB;

export type MachineOptions = NonNullable<Parameters<typeof makeConfig>[0]>;
export type BootOptions = MachineOptions & { cmdline?: string };

/** A small machine for tests that do not care about its size: 64 MiB a node, no NVRAM. */
export const SMALL: MachineOptions = { memPerNode: 64 * MiB, nvramSize: 0 };

export interface Booted {
  machine: Machine;
  bp: BootParams;
  /** pid 1. */
  init: task_struct;
  /** Every log line's text at the end of the boot, in order. */
  log: string[];
  /** What reached the console (levels below the console loglevel), with timestamps. */
  console: string[];
}

/** Power on a machine with `opts` and boot a kernel on it. Throws KernelPanic. */
export function bootKernel(opts: BootOptions = {}): Booted {
  const { cmdline = '', ...patch } = opts;
  const machine = new Machine(makeConfig(patch));
  const bp = machine.bootParams(cmdline);
  const console: string[] = [];
  start_kernel(bp, (l) => console.push(l));
  return { machine, bp, init: find_task_by_vpid(1)!, log: logLines(/./), console };
}

/** Pages the booted kernel holds (allocated, not reserved): what boot took from the buddy. */
export function pagesInUse(): number {
  let n = 0;
  for (let pfn = 0; pfn < page_refcount.length; pfn++) if (page_refcount[pfn] > 0 && !(page_flags[pfn] & PG_reserved)) n++;
  return n;
}

/** The current log's lines (text only) matching `re`. */
export function logLines(re: RegExp): string[] {
  return log_records().map((r) => r.text).filter((s) => re.test(s));
}

/** The current log's lines from the TME/MKTME detection. */
export function tmeLines(): string[] {
  return logLines(/^x86\/(tme|mktme):/).filter((s) => !/direct mappings/.test(s));
}

/**
 * PCONFIG KEYID_SET_KEY_DIRECT (AES-XTS-128) for `keyid` on one CPU of every package,
 * past the key service, with keys derived from `seed` (key1[i] = seed*31 + i*7,
 * key2[i] = seed*17 + i*13 + 1, bytes). For mm tests that need a programmed KeyID.
 */
export function programKey(b: Booted, keyid: number, seed: number): void {
  const pfn = alloc_pages(GFP_KERNEL, 0);
  const s = new Uint8Array(256);
  s[0] = keyid & 0xff; s[1] = keyid >> 8;
  s[2] = 0;          // KEYID_SET_KEY_DIRECT
  s[3] = 1;          // ENC_ALG bit 0: AES-XTS-128
  const [k1, k2] = directKeys(seed);
  s.set(k1, 64);
  s.set(k2, 128);
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

/** The data and tweak keys programKey(b, keyid, seed) programs. */
export function directKeys(seed: number): [Uint8Array, Uint8Array] {
  const k1 = new Uint8Array(16), k2 = new Uint8Array(16);
  for (let i = 0; i < 16; i++) { k1[i] = (seed * 31 + i * 7) & 0xff; k2[i] = (seed * 17 + i * 13 + 1) & 0xff; }
  return [k1, k2];
}
