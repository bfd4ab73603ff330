/**
 * Test helpers for the bare machine: software running with paging off (linear =
 * physical) on one CPU of each package, the way firmware or a tiny boot stub would.
 */
import { makeConfig, type MachineConfig } from '../../arch/x86/hw/config.js';
import { Machine } from '../../arch/x86/hw/machine.js';
import type { Cpu } from '../../arch/x86/hw/cpu.js';

export type Patch = Parameters<typeof makeConfig>[0];

export function machine(patch: Patch = {}): Machine {
  return new Machine(makeConfig({ memPerNode: 32 * 1024 * 1024, nvramSize: 16 * 1024 * 1024, ...patch }));
}

/** The physical address of `addr` under `keyid`, for a machine's active KeyID bits. */
export function alias(m: Machine, addr: number, keyid: number): number {
  const e = m.packages[0].engine;
  return keyid * 2 ** e.addrBits + addr;
}

/** First CPU of each package. */
export function leadCpus(m: Machine): Cpu[] {
  return m.packages.map((p) => m.cpus.find((c) => c.pkg === p)!);
}

export const CMD_DIRECT = 0, CMD_RANDOM = 1, CMD_CLEAR = 2, CMD_NO_ENCRYPT = 3;
export const ALG_128 = 1, ALG_256 = 4;

/** Scratch page for PCONFIG structures (physical, KeyID 0, 256-byte aligned). */
export const SCRATCH = 0x200000;

/** Run PCONFIG MKTME_KEY_PROGRAM on `cpu` with paging off. Returns RAX. */
export function programOn(cpu: Cpu, keyid: number, cmd: number, alg: number,
  key1: Uint8Array = new Uint8Array(0), key2: Uint8Array = new Uint8Array(0), at = SCRATCH): number {
  const s = new Uint8Array(192);
  const dv = new DataView(s.buffer);
  dv.setUint16(0, keyid, true);
  dv.setUint32(2, cmd | (alg << 8), true);
  s.set(key1, 64);
  s.set(key2, 128);
  cpu.write(at, s);
  const r = cpu.pconfig(0, at);
  cpu.fill(at, 0, 192);
  return r.rax;
}

/** Program the same entry on every package; returns each package's RAX. */
export function programAll(m: Machine, keyid: number, cmd: number, alg: number,
  key1?: Uint8Array, key2?: Uint8Array): number[] {
  return leadCpus(m).map((c) => programOn(c, keyid, cmd, alg, key1, key2));
}

export function bytes(text: string): Uint8Array { return new TextEncoder().encode(text); }

export function cfgOf(m: Machine): MachineConfig { return m.cfg; }
