/**
 * Test helpers for the bare machine: software running with paging off (linear =
 * physical) on one CPU of each package, the way firmware or a tiny boot stub would.
 */
import { makeConfig, type MachineConfig } from '../../arch/x86/hw/config.js';
import { Machine } from '../../arch/x86/hw/machine.js';
import type { Cpu } from '../../arch/x86/hw/cpu.js';
import { Rng } from '../../arch/x86/hw/rng.js';
import { addrTweak, xtsDecrypt, xtsEncrypt } from '../../arch/x86/hw/crypto/xts-ref.js';

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

/**
 * Package `pkg`'s TME platform key (AES-XTS-128 policy), replayed from the machine's seed:
 * the packages share one key RNG forked from the machine's, and the BIOS activates them
 * in order at every power-on, each drawing 32 bytes (data key, tweak key). For tests that compute what a
 * KeyID-0 access must give, instead of asserting only that it differs.
 */
export function platformKey(m: Machine, pkg: number, powerCycles = 0): [Uint8Array, Uint8Array] {
  const keyRng = new Rng(m.cfg.seed).fork();
  let k: Uint8Array = new Uint8Array(32);
  for (let i = 0; i <= powerCycles * m.packages.length + pkg; i++) k = keyRng.fill(new Uint8Array(32));
  return [k.subarray(0, 16), k.subarray(16)];
}

/** The node whose memory controller (and so whose package's engine) owns physical `pa`. */
export function homeNode(m: Machine, pa: number): number {
  const r = m.map.find((x) => pa >= x.base && pa < x.base + x.size);
  if (!r) throw new Error(`no memory at ${pa.toString(16)}`);
  return r.node;
}

/** `data` (whole 64-byte lines) at physical `pa` under (key1, key2): what the DIMM holds. */
export function lineEncrypt(key: [Uint8Array, Uint8Array], pa: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let o = 0; o < data.length; o += 64) out.set(xtsEncrypt(key[0], key[1], addrTweak(pa + o), data.subarray(o, o + 64)), o);
  return out;
}

/** The reverse: what a read through a KeyID keyed (key1, key2) returns for DIMM bytes `ct`. */
export function lineDecrypt(key: [Uint8Array, Uint8Array], pa: number, ct: Uint8Array): Uint8Array {
  const out = new Uint8Array(ct.length);
  for (let o = 0; o < ct.length; o += 64) out.set(xtsDecrypt(key[0], key[1], addrTweak(pa + o), ct.subarray(o, o + 64)), o);
  return out;
}
