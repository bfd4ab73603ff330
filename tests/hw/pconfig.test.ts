/**
 * PCONFIG leaf 0 (MKTME_KEY_PROGRAM): the whole fault order of the current SDM, the
 * rev 1.3 differences, DEVICE_BUSY and ENTROPY_ERROR, each command's effect on the
 * key table, and the zeroing of every copy of key bytes.
 */
import t from 'tap';
import { makeConfig, type CpuConfig, type MachineConfig } from '../../arch/x86/hw/config.js';
import { KEY_MODE_KEY, KEY_MODE_NO_ENCRYPT, KEY_MODE_TME, LINE } from '../../arch/x86/hw/engine.js';
import { Fault, X86_TRAP_GP, X86_TRAP_PF, X86_TRAP_UD, type PconfigResult } from '../../arch/x86/hw/isa.js';
import { MSR_IA32_TME_ACTIVATE, writeMsr } from '../../arch/x86/hw/msr.js';
import { Package } from '../../arch/x86/hw/package.js';
import {
  KEYID_CLEAR_KEY, KEYID_NO_ENCRYPT, KEYID_SET_KEY_DIRECT, KEYID_SET_KEY_RANDOM,
  PCONFIG_DEVICE_BUSY, PCONFIG_ENTROPY_ERROR, PCONFIG_INVALID_ENC_ALG, PCONFIG_INVALID_KEYID,
  PCONFIG_INVALID_PROG_CMD, PCONFIG_PROG_SUCCESS, pconfig, type PconfigEnv,
} from '../../arch/x86/hw/pconfig.js';
import { Rng } from '../../arch/x86/hw/rng.js';
import { addrTweak, xtsEncrypt } from '../../arch/x86/hw/crypto/xts-ref.js';

const SEED = 7;
const MEM = 64 * 1024;
const ACT_DEFAULT = 2n | (6n << 32n) | (0b101n << 48n); // enable, 6 KeyID bits, AES-XTS-128/256

interface Rig {
  cfg: MachineConfig;
  pkg: Package;
  mem: Uint8Array;
  env: PconfigEnv;
  /** Every buffer readLinear handed out. */
  reads: Uint8Array[];
}

function rig(cpu: Partial<CpuConfig> = {}, act: bigint | null = ACT_DEFAULT): Rig {
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

interface KeyProgram {
  keyid: number;
  command: number;
  alg: number; // ENC_ALG bits (KEYID_CTRL[23:8])
  ctrlRsvd?: number;
  key1?: number[] | Uint8Array;
  key2?: number[] | Uint8Array;
}

/** Write an MKTME_KEY_PROGRAM_STRUCT at `off`. */
function put(mem: Uint8Array, off: number, p: KeyProgram): number {
  mem.fill(0, off, off + 256);
  mem[off] = p.keyid & 0xff; mem[off + 1] = p.keyid >> 8;
  mem[off + 2] = p.command;
  mem[off + 3] = p.alg & 0xff; mem[off + 4] = p.alg >> 8;
  mem[off + 5] = p.ctrlRsvd ?? 0;
  if (p.key1) mem.set(p.key1, off + 64);
  if (p.key2) mem.set(p.key2, off + 128);
  return off;
}

const K128 = 1;
const K256 = 4;
const seq = (n: number, start: number): number[] => Array.from({ length: n }, (_, i) => (start + i) & 0xff);

function fault(fn: () => unknown): Fault | null {
  try { fn(); return null; } catch (e) { if (e instanceof Fault) return e; throw e; }
}

/** Ciphertext of a fixed line at `addr` under KeyID `keyid`. */
function ct(pkg: Package, keyid: number, addr = 0x2000): Uint8Array {
  const plain = new Uint8Array(LINE).fill(0x3c);
  const out = new Uint8Array(LINE);
  pkg.engine.encrypt(keyid, addr, plain, 0, out, 0);
  return out;
}

/**
 * What ct() must give for a key: the reference AES-XTS (xts-ref.ts, checked against the
 * IEEE 1619 vectors) over the 0x3c line, with the address tweak.
 */
function ref(key1: ArrayLike<number>, key2: ArrayLike<number>, addr = 0x2000): Uint8Array {
  return xtsEncrypt(Uint8Array.from(key1), Uint8Array.from(key2), addrTweak(addr), new Uint8Array(LINE).fill(0x3c));
}

/** The machine's RNG replayed: the platform key activation drew, then each later draw. */
function rngReplay(): { platform: [Uint8Array, Uint8Array]; next(len: number): Uint8Array } {
  const shadow = new Rng(SEED);
  const p = shadow.fill(new Uint8Array(32));
  return { platform: [p.subarray(0, 16), p.subarray(16)], next: (len) => shadow.fill(new Uint8Array(len)) };
}

const xor = (a: Uint8Array, b: number[]): number[] => Array.from(a, (x, i) => x ^ (b[i] ?? 0));

const REVS: ('sdm' | '1.3')[] = ['sdm', '1.3'];

t.test('fault order, step by step (both revisions)', (t) => {
  for (const rev of REVS) {
    const why = (r: Rig, leaf: number, rbx: number): string => {
      const f = fault(() => pconfig(r.env, leaf, rbx));
      return f ? `${f.mnemonic} ${f.why}` : 'no fault';
    };
    // Everything wrong at once, then fix one thing at a time.
    let r = rig({ pconfig: false, pconfigRev: rev }, null);
    r.env.cpl = 3;
    const bad = put(r.mem, 0x200, { keyid: 0, command: 9, alg: 3, ctrlRsvd: 1 });
    t.match(why(r, 1, 0x208), /^#UD .*not enumerated/, `${rev}: #UD without PCONFIG`);
    r = rig({ pconfigRev: rev }, null);
    r.env.cpl = 3;
    put(r.mem, 0x200, { keyid: 0, command: 9, alg: 3, ctrlRsvd: 1 });
    t.match(why(r, 1, 0x208), /^#UD .*CPL/, `${rev}: #UD at CPL 3`);
    r.env.cpl = 0;
    t.match(why(r, 1, 0x208), /^#GP .*leaf/, `${rev}: #GP leaf 1`);
    t.match(why(r, 0xffffffff, 0x208), /^#GP .*leaf/, `${rev}: #GP leaf 0xffffffff`);
    t.match(why(r, 0, 0x208), /^#GP .*not activated/, `${rev}: #GP: TME_ACTIVATE unlocked`);
    t.equal(r.reads.length, 0, 'nothing read yet');
    r = rig({ pconfigRev: rev });
    put(r.mem, 0x200, { keyid: 0, command: 9, alg: 3, ctrlRsvd: 1 });
    t.match(why(r, 0, 0x208), /^#GP .*aligned/, `${rev}: #GP misaligned`);
    t.match(why(r, 0, 0x280), /^#GP .*aligned/, `${rev}: #GP 128-byte aligned only`);
    t.match(why(r, 0, 2 ** 48), /^#GP .*canonical/, `${rev}: #GP non-canonical`);
    t.equal(r.reads.length, 0, 'nothing read before the alignment check');
    const pf = fault(() => pconfig(r.env, 0, MEM));
    t.equal(pf?.vector, X86_TRAP_PF, `${rev}: #PF reading the struct propagates`);
    t.equal(pf?.address, MEM);
    t.match(why(r, 0, bad), /^#GP .*KEYID_CTRL\[31:24\]/, `${rev}: #GP KEYID_CTRL reserved`);
    put(r.mem, 0x200, { keyid: 0, command: 9, alg: 3 });
    if (rev === 'sdm') {
      t.match(why(r, 0, bad), /^#GP .*command/, 'sdm: #GP bad command');
      put(r.mem, 0x200, { keyid: 0, command: 0, alg: 3 });
      t.match(why(r, 0, bad), /^#GP .*KeyID/, 'sdm: #GP bad KeyID');
      put(r.mem, 0x200, { keyid: 1, command: 0, alg: 3 });
      t.match(why(r, 0, bad), /^#GP .*ENC_ALG/, 'sdm: #GP bad ENC_ALG');
    } else {
      t.same(pconfig(r.env, 0, bad), { rax: PCONFIG_INVALID_PROG_CMD, zf: true }, '1.3: bad command status 1');
      put(r.mem, 0x200, { keyid: 0, command: 0, alg: 3 });
      t.same(pconfig(r.env, 0, bad), { rax: PCONFIG_INVALID_KEYID, zf: true }, '1.3: bad KeyID status 3');
      put(r.mem, 0x200, { keyid: 1, command: 0, alg: 3 });
      t.same(pconfig(r.env, 0, bad), { rax: PCONFIG_INVALID_ENC_ALG, zf: true }, '1.3: bad ENC_ALG status 4');
    }
    put(r.mem, 0x200, { keyid: 1, command: 0, alg: K128 });
    r.pkg.engine.injectBusy = 1;
    t.same(pconfig(r.env, 0, bad), { rax: PCONFIG_DEVICE_BUSY, zf: true }, `${rev}: DEVICE_BUSY`);
    t.equal(r.pkg.engine.keyMode(1), KEY_MODE_TME, 'busy changed nothing');
    put(r.mem, 0x200, { keyid: 1, command: KEYID_SET_KEY_RANDOM, alg: K128 });
    r.pkg.engine.injectEntropyError = 1;
    t.same(pconfig(r.env, 0, bad), { rax: PCONFIG_ENTROPY_ERROR, zf: true }, `${rev}: ENTROPY_ERROR`);
    t.equal(r.pkg.engine.keyMode(1), KEY_MODE_TME, 'entropy error changed nothing');
    t.same(pconfig(r.env, 0, bad), { rax: PCONFIG_PROG_SUCCESS, zf: false }, `${rev}: success`);
    t.equal(r.pkg.engine.keyMode(1), KEY_MODE_KEY);
  }
  t.end();
});

t.test('TME_ACTIVATE states that refuse PCONFIG', (t) => {
  for (const rev of REVS) {
    for (const [name, act] of [
      ['unlocked', null], ['locked with TME disabled', 0n], ['TME on, KeyID bits 0', 2n | (0b101n << 48n)],
    ] as [string, bigint | null][]) {
      const r = rig({ pconfigRev: rev }, act);
      const rbx = put(r.mem, 0x100, { keyid: 1, command: 0, alg: K128 });
      const f = fault(() => pconfig(r.env, 0, rbx));
      t.equal(f?.vector, X86_TRAP_GP, `${rev}: ${name}`);
    }
    // RNG failure at activation leaves 982H unlocked: PCONFIG refuses.
    const r = rig({ pconfigRev: rev }, null);
    r.pkg.engine.injectActivateRngFailure = true;
    writeMsr(r.cfg, r.pkg, MSR_IA32_TME_ACTIVATE, ACT_DEFAULT);
    const rbx = put(r.mem, 0x100, { keyid: 1, command: 0, alg: K128 });
    t.equal(fault(() => pconfig(r.env, 0, rbx))?.vector, X86_TRAP_GP, `${rev}: after failed activation`);
  }
  t.end();
});

t.test('bad fields: #GP (SDM) or status codes (rev 1.3), never a change', (t) => {
  const cases: [string, Partial<CpuConfig>, bigint, KeyProgram, number][] = [
    ['command 4', {}, ACT_DEFAULT, { keyid: 1, command: 4, alg: K128 }, PCONFIG_INVALID_PROG_CMD],
    ['command 255', {}, ACT_DEFAULT, { keyid: 1, command: 255, alg: K128 }, PCONFIG_INVALID_PROG_CMD],
    ['command before KeyID', {}, ACT_DEFAULT, { keyid: 0, command: 4, alg: 0 }, PCONFIG_INVALID_PROG_CMD],
    ['KeyID 0', {}, ACT_DEFAULT, { keyid: 0, command: 2, alg: K128 }, PCONFIG_INVALID_KEYID],
    ['KeyID 64 > MAX_KEYS', {}, ACT_DEFAULT, { keyid: 64, command: 2, alg: K128 }, PCONFIG_INVALID_KEYID],
    ['KeyID 0xffff', {}, ACT_DEFAULT, { keyid: 0xffff, command: 2, alg: K128 }, PCONFIG_INVALID_KEYID],
    ['KeyID 11 > MAX_KEYS 10', { maxKeys: 10 }, ACT_DEFAULT, { keyid: 11, command: 2, alg: K128 }, PCONFIG_INVALID_KEYID],
    ['KEYID[15:4] != 0 with 4 KeyID bits', {}, 2n | (4n << 32n) | (1n << 48n), { keyid: 16, command: 2, alg: K128 }, PCONFIG_INVALID_KEYID],
    ['KeyID before ENC_ALG', {}, ACT_DEFAULT, { keyid: 0, command: 2, alg: 0 }, PCONFIG_INVALID_KEYID],
    ['ENC_ALG 0', {}, ACT_DEFAULT, { keyid: 5, command: 2, alg: 0 }, PCONFIG_INVALID_ENC_ALG],
    ['ENC_ALG two bits', {}, ACT_DEFAULT, { keyid: 5, command: 2, alg: K128 | K256 }, PCONFIG_INVALID_ENC_ALG],
    ['ENC_ALG integrity (bit 1)', {}, ACT_DEFAULT, { keyid: 5, command: 2, alg: 2 }, PCONFIG_INVALID_ENC_ALG],
    ['ENC_ALG bit 15', {}, ACT_DEFAULT, { keyid: 5, command: 2, alg: 0x8000 }, PCONFIG_INVALID_ENC_ALG],
    ['ENC_ALG 256 not activated', {}, 2n | (6n << 32n) | (1n << 48n), { keyid: 5, command: 3, alg: K256 }, PCONFIG_INVALID_ENC_ALG],
    ['no algorithm activated', {}, 2n | (6n << 32n), { keyid: 5, command: 0, alg: K128 }, PCONFIG_INVALID_ENC_ALG],
  ];
  for (const rev of REVS) {
    for (const [name, cpu, act, p, code] of cases) {
      const r = rig({ ...cpu, pconfigRev: rev }, act);
      r.pkg.engine.programKey(5, KEY_MODE_NO_ENCRYPT);
      const rbx = put(r.mem, 0x300, p);
      if (rev === 'sdm') {
        const f = fault(() => pconfig(r.env, 0, rbx));
        t.ok(f?.vector === X86_TRAP_GP && f.errorCode === 0, `sdm ${name}: #GP(0)`);
      } else {
        t.same(pconfig(r.env, 0, rbx), { rax: code, zf: true }, `1.3 ${name}: status ${code}`);
      }
      for (const k of [1, 5, 10, 16, 63].filter((x) => x <= r.cfg.cpu.maxKeys)) {
        t.equal(r.pkg.engine.keyMode(k), k === 5 ? KEY_MODE_NO_ENCRYPT : KEY_MODE_TME, `${rev} ${name}: KeyID ${k} unchanged`);
      }
      t.ok(r.reads.every((b) => b.every((x) => x === 0)), `${rev} ${name}: struct copy zeroed`);
    }
  }
  t.end();
});

t.test('valid KeyID edges', (t) => {
  for (const rev of REVS) {
    let r = rig({ pconfigRev: rev });
    t.same(pconfig(r.env, 0, put(r.mem, 0, { keyid: 63, command: 3, alg: K128 })), { rax: 0, zf: false }, `${rev}: KeyID 63`);
    t.equal(r.pkg.engine.keyMode(63), KEY_MODE_NO_ENCRYPT);
    r = rig({ pconfigRev: rev }, 2n | (4n << 32n) | (1n << 48n));
    t.same(pconfig(r.env, 0, put(r.mem, 0, { keyid: 15, command: 3, alg: K128 })), { rax: 0, zf: false }, `${rev}: KeyID 15 of 4 bits`);
    r = rig({ pconfigRev: rev, maxKeys: 10 });
    t.same(pconfig(r.env, 0, put(r.mem, 0, { keyid: 10, command: 3, alg: K128 })), { rax: 0, zf: false }, `${rev}: KeyID = MAX_KEYS`);
  }
  t.end();
});

t.test('rev 1.3: reserved bytes and key-field upper bytes #GP; SDM ignores them', (t) => {
  const variants: [string, KeyProgram, (m: Uint8Array, off: number) => void][] = [
    ['RSVD byte 6', { keyid: 1, command: 0, alg: K128 }, (m, o) => { m[o + 6] = 1; }],
    ['RSVD byte 63', { keyid: 1, command: 0, alg: K128 }, (m, o) => { m[o + 63] = 0x80; }],
    ['RSVD byte with a bad command', { keyid: 1, command: 7, alg: K128 }, (m, o) => { m[o + 20] = 1; }],
    ['128: field 1 byte 16', { keyid: 1, command: 0, alg: K128 }, (m, o) => { m[o + 64 + 16] = 1; }],
    ['128: field 2 byte 63', { keyid: 1, command: 0, alg: K128 }, (m, o) => { m[o + 128 + 63] = 1; }],
    ['128: CLEAR_KEY with key bytes', { keyid: 1, command: 2, alg: K128 }, (m, o) => { m[o + 64 + 40] = 1; }],
    ['256: field 1 byte 32', { keyid: 1, command: 0, alg: K256 }, (m, o) => { m[o + 64 + 32] = 1; }],
    ['256: field 2 byte 50', { keyid: 1, command: 1, alg: K256 }, (m, o) => { m[o + 128 + 50] = 1; }],
  ];
  for (const [name, p, poke] of variants) {
    for (const rev of REVS) {
      const r = rig({ pconfigRev: rev });
      const rbx = put(r.mem, 0x400, p);
      poke(r.mem, rbx);
      if (rev === '1.3') {
        const f = fault(() => pconfig(r.env, 0, rbx));
        t.equal(f?.vector, X86_TRAP_GP, `1.3 ${name}: #GP`);
        t.equal(r.pkg.engine.keyMode(1), KEY_MODE_TME, `1.3 ${name}: nothing changed`);
        t.ok(r.reads[0].every((x) => x === 0), `1.3 ${name}: struct copy zeroed after the fault`);
      } else if (p.command === 7) {
        t.equal(fault(() => pconfig(r.env, 0, rbx))?.vector, X86_TRAP_GP, `sdm ${name}: the command #GPs`);
      } else {
        t.same(pconfig(r.env, 0, rbx), { rax: 0, zf: false }, `sdm ${name}: ignored`);
      }
    }
  }
  for (const rev of REVS) {
    const r = rig({ pconfigRev: rev });
    // Bytes inside the key length are fine under both.
    t.same(pconfig(r.env, 0, put(r.mem, 0, { keyid: 1, command: 0, alg: K128, key1: seq(16, 1), key2: seq(16, 100) })),
      { rax: 0, zf: false }, `${rev}: 16-byte keys`);
    t.same(pconfig(r.env, 0, put(r.mem, 0, { keyid: 2, command: 0, alg: K256, key1: seq(32, 1), key2: seq(32, 100) })),
      { rax: 0, zf: false }, `${rev}: 32-byte keys`);
  }
  t.end();
});

t.test('SET_KEY_DIRECT: data/tweak keys, lengths, distinct KeyIDs', (t) => {
  const r = rig();
  const k1 = seq(16, 1);
  const k2 = seq(16, 200);
  const before = ct(r.pkg, 1);
  t.same(pconfig(r.env, 0, put(r.mem, 0, { keyid: 1, command: KEYID_SET_KEY_DIRECT, alg: K128, key1: k1, key2: k2 })),
    { rax: 0, zf: false });
  t.equal(r.pkg.engine.keyMode(1), KEY_MODE_KEY);
  const c1 = ct(r.pkg, 1);
  t.same(c1, ref(k1, k2), 'KeyID 1: AES-XTS-128 under (data key, tweak key)');
  t.same(before, ref(...rngReplay().platform), 'before: the TME platform key');
  t.same(ct(r.pkg, 0), before, 'KeyID 0 still the TME key');
  // Same key on KeyID 2, with junk past byte 16 (ignored under the SDM): same ciphertext.
  const junk1 = [...k1, ...seq(48, 77)];
  pconfig(r.env, 0, put(r.mem, 0x100, { keyid: 2, command: 0, alg: K128, key1: junk1, key2: k2 }));
  t.same(ct(r.pkg, 2), c1, 'only the first 16 bytes are used for AES-XTS-128');
  // Tweak key matters, and data/tweak are not interchangeable.
  pconfig(r.env, 0, put(r.mem, 0x100, { keyid: 3, command: 0, alg: K128, key1: k2, key2: k1 }));
  t.same(ct(r.pkg, 3), ref(k2, k1), 'data and tweak keys swapped: their ciphertext, not KeyID 1\'s');
  // AES-XTS-256 uses 32 bytes: differing only in byte 20 gives different ciphertext.
  const a = seq(32, 9);
  const b = a.slice(); b[20] ^= 1;
  pconfig(r.env, 0, put(r.mem, 0x100, { keyid: 4, command: 0, alg: K256, key1: a, key2: seq(32, 50) }));
  pconfig(r.env, 0, put(r.mem, 0x100, { keyid: 5, command: 0, alg: K256, key1: b, key2: seq(32, 50) }));
  t.same(ct(r.pkg, 4), ref(a, seq(32, 50)), 'AES-XTS-256 under the 32-byte keys');
  t.same(ct(r.pkg, 5), ref(b, seq(32, 50)), 'AES-XTS-256 uses bytes 16..31');
  // Key material is not left behind anywhere PCONFIG touched.
  t.ok(r.reads.every((s) => s.every((x) => x === 0)), 'every struct copy zeroed');
  t.end();
});

t.test('SET_KEY_RANDOM: RNG XOR software entropy, data and tweak keys', (t) => {
  const r = rig();
  const e1 = seq(16, 33);
  const e2 = seq(16, 140);
  t.same(pconfig(r.env, 0, put(r.mem, 0, { keyid: 7, command: KEYID_SET_KEY_RANDOM, alg: K128, key1: e1, key2: e2 })),
    { rax: 0, zf: false });
  t.equal(r.pkg.engine.keyMode(7), KEY_MODE_KEY);
  // Replay the machine's RNG: activation drew the 32-byte platform key, PCONFIG the next 32.
  const shadow = new Rng(SEED);
  shadow.fill(new Uint8Array(32));
  const rnd = shadow.fill(new Uint8Array(32));
  const d1 = Array.from(rnd.subarray(0, 16), (x, i) => x ^ e1[i]);
  const d2 = Array.from(rnd.subarray(16), (x, i) => x ^ e2[i]);
  pconfig(r.env, 0, put(r.mem, 0, { keyid: 8, command: KEYID_SET_KEY_DIRECT, alg: K128, key1: d1, key2: d2 }));
  t.same(ct(r.pkg, 8), ct(r.pkg, 7), 'data key = RNG[0:16] ^ field 1, tweak key = RNG[16:32] ^ field 2');
  // Two RANDOM programs with the same entropy give different keys: the next RNG draw.
  pconfig(r.env, 0, put(r.mem, 0, { keyid: 9, command: KEYID_SET_KEY_RANDOM, alg: K128, key1: e1, key2: e2 }));
  const rnd9 = shadow.fill(new Uint8Array(32));
  t.same(ct(r.pkg, 9), ref(xor(rnd9.subarray(0, 16), e1), xor(rnd9.subarray(16), e2)), 'the next 32 RNG bytes');
  // Deterministic: the same seed replays the same keys.
  const r2 = rig();
  pconfig(r2.env, 0, put(r2.mem, 0, { keyid: 7, command: KEYID_SET_KEY_RANDOM, alg: K128, key1: e1, key2: e2 }));
  t.same(ct(r2.pkg, 7), ct(r.pkg, 7), 'same seed, same random key');
  // AES-XTS-256 random keys work too.
  t.same(pconfig(r.env, 0, put(r.mem, 0, { keyid: 10, command: KEYID_SET_KEY_RANDOM, alg: K256 })), { rax: 0, zf: false });
  const rnd10 = shadow.fill(new Uint8Array(64));
  t.same(ct(r.pkg, 10), ref(rnd10.subarray(0, 32), rnd10.subarray(32)), '64 RNG bytes, no entropy');
  t.end();
});

t.test('ENTROPY_ERROR and DEVICE_BUSY change nothing; retry succeeds', (t) => {
  for (const rev of REVS) {
    const r = rig({ pconfigRev: rev });
    pconfig(r.env, 0, put(r.mem, 0, { keyid: 3, command: 0, alg: K128, key1: seq(16, 1), key2: seq(16, 2) }));
    const c3 = ct(r.pkg, 3);
    const rbx = put(r.mem, 0x100, { keyid: 3, command: KEYID_SET_KEY_RANDOM, alg: K128 });
    r.pkg.engine.injectEntropyError = 1;
    t.same(pconfig(r.env, 0, rbx), { rax: PCONFIG_ENTROPY_ERROR, zf: true }, `${rev}: entropy error`);
    t.equal(r.pkg.engine.keyMode(3), KEY_MODE_KEY);
    t.same(ct(r.pkg, 3), c3, 'old key still in place');
    r.pkg.engine.injectBusy = 2;
    for (const cmd of [KEYID_CLEAR_KEY, KEYID_NO_ENCRYPT]) {
      const res = pconfig(r.env, 0, put(r.mem, 0x200, { keyid: 3, command: cmd, alg: K128 }));
      t.same(res, { rax: PCONFIG_DEVICE_BUSY, zf: true }, `${rev}: busy (command ${cmd})`);
      t.equal(r.pkg.engine.keyMode(3), KEY_MODE_KEY, 'busy: unchanged');
    }
    t.same(ct(r.pkg, 3), c3);
    // DIRECT does not consume entropy: an injected entropy error does not affect it.
    r.pkg.engine.injectEntropyError = 1;
    t.same(pconfig(r.env, 0, put(r.mem, 0x200, { keyid: 4, command: 0, alg: K128 })), { rax: 0, zf: false });
    t.same(pconfig(r.env, 0, rbx), { rax: PCONFIG_ENTROPY_ERROR, zf: true });
    t.same(pconfig(r.env, 0, rbx), { rax: 0, zf: false }, `${rev}: retry succeeds`);
    // A failed draw takes nothing from the RNG: the key is the draw after the platform key's.
    const rnd = rngReplay().next(32);
    t.same(ct(r.pkg, 3), ref(rnd.subarray(0, 16), rnd.subarray(16)), 'new random key: the next 32 RNG bytes');
  }
  t.end();
});

t.test('CLEAR_KEY and NO_ENCRYPT', (t) => {
  const r = rig();
  const tme = ct(r.pkg, 6);
  pconfig(r.env, 0, put(r.mem, 0, { keyid: 6, command: 0, alg: K128, key1: seq(16, 5), key2: seq(16, 6) }));
  t.same(ct(r.pkg, 6), ref(seq(16, 5), seq(16, 6)));
  t.same(tme, ref(...rngReplay().platform));
  t.same(pconfig(r.env, 0, put(r.mem, 0, { keyid: 6, command: KEYID_NO_ENCRYPT, alg: K256 })), { rax: 0, zf: false });
  t.equal(r.pkg.engine.keyMode(6), KEY_MODE_NO_ENCRYPT);
  t.same(ct(r.pkg, 6), new Uint8Array(LINE).fill(0x3c), 'plaintext on the bus');
  t.same(pconfig(r.env, 0, put(r.mem, 0, { keyid: 6, command: KEYID_CLEAR_KEY, alg: K128 })), { rax: 0, zf: false });
  t.equal(r.pkg.engine.keyMode(6), KEY_MODE_TME);
  t.same(ct(r.pkg, 6), tme, 'back to the TME key');
  t.end();
});

t.test('every copy of key bytes is zeroed; the engine keeps working', (t) => {
  const r = rig();
  const captured: Uint8Array[] = [];
  const eng = r.pkg.engine;
  const origProgram = eng.programKey.bind(eng);
  eng.programKey = (keyid: number, mode: number, key1?: Uint8Array, key2?: Uint8Array): void => {
    if (key1) captured.push(key1);
    if (key2) captured.push(key2);
    origProgram(keyid, mode, key1, key2);
  };
  const origRandom = eng.randomKey.bind(eng);
  eng.randomKey = (len: number): Uint8Array | null => {
    const k = origRandom(len);
    if (k) captured.push(k);
    return k;
  };
  const results: PconfigResult[] = [];
  results.push(pconfig(r.env, 0, put(r.mem, 0, { keyid: 1, command: 0, alg: K128, key1: seq(16, 1), key2: seq(16, 2) })));
  results.push(pconfig(r.env, 0, put(r.mem, 0, { keyid: 2, command: 0, alg: K256, key1: seq(32, 3), key2: seq(32, 4) })));
  results.push(pconfig(r.env, 0, put(r.mem, 0, { keyid: 3, command: 1, alg: K128, key1: seq(16, 5), key2: seq(16, 6) })));
  results.push(pconfig(r.env, 0, put(r.mem, 0, { keyid: 4, command: 1, alg: K256 })));
  t.ok(results.every((x) => x.rax === 0 && !x.zf));
  t.equal(captured.length, 10, 'captured the derived keys and the RNG output');
  t.ok(captured.every((k) => k.length > 0 && k.every((x) => x === 0)), 'derived keys and RNG output zeroed');
  t.ok(r.reads.every((s) => s.every((x) => x === 0)), 'struct copies zeroed');
  const rng = rngReplay();
  const rnd3 = rng.next(32);
  const rnd4 = rng.next(64);
  t.same(ct(r.pkg, 1), ref(seq(16, 1), seq(16, 2)), 'KeyID 1 still encrypts with its key');
  t.same(ct(r.pkg, 2), ref(seq(32, 3), seq(32, 4)), 'KeyID 2 too');
  t.same(ct(r.pkg, 3), ref(xor(rnd3.subarray(0, 16), seq(16, 5)), xor(rnd3.subarray(16), seq(16, 6))), 'KeyID 3 too');
  t.same(ct(r.pkg, 4), ref(rnd4.subarray(0, 32), rnd4.subarray(32)), 'KeyID 4 too');
  t.end();
});

t.test('a #PF during the read leaves everything unchanged', (t) => {
  const r = rig();
  const f = fault(() => pconfig(r.env, 0, MEM));
  t.equal(f?.vector, X86_TRAP_PF);
  t.equal(r.reads.length, 0);
  t.equal(fault(() => pconfig({ ...r.env, cpl: 3 }, 0, 0))?.vector, X86_TRAP_UD);
  t.end();
});
