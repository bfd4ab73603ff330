/**
 * The PCONFIG tests' rig (pconfig.test.ts, pconfig_keys.test.ts): a package with its
 * engine and memory, KEY_PROGRAM_STRUCT images, and the reference ciphertexts.
 */
import { makeConfig, type CpuConfig, type MachineConfig } from '../../arch/x86/hw/config.js';
import { LINE } from '../../arch/x86/hw/engine.js';
import { Fault, X86_TRAP_PF } from '../../arch/x86/hw/isa.js';
import { MSR_IA32_TME_ACTIVATE, writeMsr } from '../../arch/x86/hw/msr.js';
import { Package } from '../../arch/x86/hw/package.js';
import { type PconfigEnv } from '../../arch/x86/hw/pconfig.js';
import { Rng } from '../../arch/x86/hw/rng.js';
import { addrTweak, xtsEncrypt } from '../../arch/x86/hw/crypto/xts-ref.js';

export const SEED = 7;
export const MEM = 64 * 1024;
export const ACT_DEFAULT = 2n | (6n << 32n) | (0b101n << 48n); // enable, 6 KeyID bits, AES-XTS-128/256

export interface Rig {
  cfg: MachineConfig;
  pkg: Package;
  mem: Uint8Array;
  env: PconfigEnv;
  /** Every buffer readLinear handed out. */
  reads: Uint8Array[];
}

export function rig(cpu: Partial<CpuConfig> = {}, act: bigint | null = ACT_DEFAULT): Rig {
  const cfg = makeConfig({ cpu });
  const pkg = new Package(0, cfg, new Rng(SEED));
  if (act !== null) writeMsr(cfg, pkg, MSR_IA32_TME_ACTIVATE, act);
  const mem = new Uint8Array(MEM);
  const reads: Uint8Array[] = [];
  const env: PconfigEnv = {
    cfg, pkg, cpl: 0, cpu: 0,
    readLinear(va, len) {
      if (va + len > MEM) throw new Fault(X86_TRAP_PF, 0, va, 'not mapped');
      const b = mem.slice(va, va + len);
      reads.push(b);
      return b;
    },
  };
  return { cfg, pkg, mem, env, reads };
}

export interface KeyProgram {
  keyid: number;
  command: number;
  alg: number; // ENC_ALG bits (KEYID_CTRL[23:8])
  ctrlRsvd?: number;
  key1?: number[] | Uint8Array;
  key2?: number[] | Uint8Array;
}

/** Write an MKTME_KEY_PROGRAM_STRUCT at `off`. */
export function put(mem: Uint8Array, off: number, p: KeyProgram): number {
  mem.fill(0, off, off + 256);
  mem[off] = p.keyid & 0xff; mem[off + 1] = p.keyid >> 8;
  mem[off + 2] = p.command;
  mem[off + 3] = p.alg & 0xff; mem[off + 4] = p.alg >> 8;
  mem[off + 5] = p.ctrlRsvd ?? 0;
  if (p.key1) mem.set(p.key1, off + 64);
  if (p.key2) mem.set(p.key2, off + 128);
  return off;
}

export const K128 = 1;
export const K256 = 4;
export const seq = (n: number, start: number): number[] => Array.from({ length: n }, (_, i) => (start + i) & 0xff);

export function fault(fn: () => unknown): Fault | null {
  try { fn(); return null; } catch (e) { if (e instanceof Fault) return e; throw e; }
}

/** Ciphertext of a fixed line at `addr` under KeyID `keyid`. */
export function ct(pkg: Package, keyid: number, addr = 0x2000): Uint8Array {
  const plain = new Uint8Array(LINE).fill(0x3c);
  const out = new Uint8Array(LINE);
  pkg.engine.encrypt(keyid, addr, plain, 0, out, 0);
  return out;
}

/**
 * What ct() must give for a key: the reference AES-XTS (xts-ref.ts, checked against the
 * IEEE 1619 vectors) over the 0x3c line, with the address tweak.
 */
export function ref(key1: ArrayLike<number>, key2: ArrayLike<number>, addr = 0x2000): Uint8Array {
  return xtsEncrypt(Uint8Array.from(key1), Uint8Array.from(key2), addrTweak(addr), new Uint8Array(LINE).fill(0x3c));
}

/** The machine's RNG replayed: the platform key activation drew, then each later draw. */
export function rngReplay(): { platform: [Uint8Array, Uint8Array]; next(len: number): Uint8Array } {
  const shadow = new Rng(SEED);
  const p = shadow.fill(new Uint8Array(32));
  return { platform: [p.subarray(0, 16), p.subarray(16)], next: (len) => shadow.fill(new Uint8Array(len)) };
}

export const xor = (a: Uint8Array, b: number[]): number[] => Array.from(a, (x, i) => x ^ (b[i] ?? 0));

export const REVS: ('sdm' | '1.3')[] = ['sdm', '1.3'];
