/**
 * Helpers for the boot tests: build a machine from a config patch, boot a kernel on it
 * in this process, and look at the log (text only, no timestamps).
 */
import { makeConfig, type BiosConfig, type CpuConfig, type MachineConfig } from '../../arch/x86/hw/config.js';
import { Machine } from '../../arch/x86/hw/machine.js';
import { start_kernel } from '../../init/main.js';
import { log_records } from '../../kernel/printk.js';

export interface BootPatch {
  cpu?: Partial<CpuConfig>;
  bios?: Partial<BiosConfig>;
  machine?: Partial<Omit<MachineConfig, 'cpu' | 'bios'>>;
}

export interface Booted {
  machine: Machine;
  /** Every log line's text, in order. */
  log: string[];
  /** Console lines (level below the console loglevel), with timestamps. */
  console: string[];
}

export function bootKernel(patch: BootPatch = {}, cmdline = ''): Booted {
  const machine = new Machine(makeConfig({ ...patch.machine, cpu: patch.cpu, bios: patch.bios }));
  const console: string[] = [];
  start_kernel(machine.bootParams(cmdline), (l) => console.push(l));
  return { machine, log: log_records().map((r) => r.text), console };
}

/** The current log's lines from the TME/MKTME detection. */
export function tmeLines(): string[] {
  return log_records().map((r) => r.text).filter((s) => /^x86\/(tme|mktme):/.test(s) && !/direct mappings/.test(s));
}
