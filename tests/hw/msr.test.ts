/**
 * RDMSR/WRMSR: the TSC, IA32_TME_CAPABILITY fields, every row of the IA32_TME_ACTIVATE
 * WRMSR response table (spec rev 1.3 Table 4-3), and the exclusion MSRs (width,
 * reserved bits, contiguity, #GP after lock).
 */
import t from 'tap';
import { makeConfig, type CpuConfig, type MachineConfig } from '../../arch/x86/hw/config.js';
import { KEY_MODE_TME, LINE } from '../../arch/x86/hw/engine.js';
import { Fault, X86_TRAP_GP } from '../../arch/x86/hw/isa.js';
import {
  MSR_IA32_TIME_STAMP_COUNTER as TSC, MSR_IA32_TME_ACTIVATE as ACT, MSR_IA32_TME_CAPABILITY as CAP,
  MSR_IA32_TME_EXCLUDE_BASE as EBASE, MSR_IA32_TME_EXCLUDE_MASK as EMASK, readMsr, writeMsr,
} from '../../arch/x86/hw/msr.js';
import { Package } from '../../arch/x86/hw/package.js';
import { Rng } from '../../arch/x86/hw/rng.js';
import { addrTweak, xtsEncrypt } from '../../arch/x86/hw/crypto/xts-ref.js';

function mk(cpu: Partial<CpuConfig> = {}): { cfg: MachineConfig; pkg: Package } {
  const cfg = makeConfig({ cpu });
  return { cfg, pkg: new Package(0, cfg, new Rng(7)) };
}

/** The line `plain` at `addr` under mk()'s platform key: the first 32 bytes of Rng(7). */
function tmeLine(addr: number, plain: Uint8Array): Uint8Array {
  const k = new Rng(7).fill(new Uint8Array(32));
  return xtsEncrypt(k.subarray(0, 16), k.subarray(16), addrTweak(addr), plain);
}

const B = (n: number): bigint => 1n << BigInt(n);
const ENABLE = 2n;
const KEY_SELECT = 4n;
const SAVE = 8n;
const BYPASS = B(31);
const keyIdBits = (k: number): bigint => BigInt(k) << 32n;
const algs = (m: number): bigint => BigInt(m) << 48n;
const policy = (p: number): bigint => BigInt(p) << 4n;

/** Whether `fn` raises #GP(0). */
function isGp(fn: () => unknown): boolean {
  try {
    fn();
    return false;
  } catch (e) {
    return e instanceof Fault && e.vector === X86_TRAP_GP && e.errorCode === 0;
  }
}

t.test('IA32_TIME_STAMP_COUNTER', (t) => {
  const { cfg, pkg } = mk();
  t.equal(readMsr(cfg, pkg, TSC, 0), 0n);
  t.equal(readMsr(cfg, pkg, TSC, 123456789012345), 123456789012345n, 'beyond 32 bits');
  t.ok(isGp(() => writeMsr(cfg, pkg, TSC, 5n)), 'write to the TSC (not modelled)');
  t.end();
});

t.test('unknown MSRs #GP', (t) => {
  const { cfg, pkg } = mk();
  for (const msr of [0, 0x11, 0x87, 0x980, 0x985, 0x9ff, 0xc0000080]) {
    t.ok(isGp(() => readMsr(cfg, pkg, msr, 0)), `rdmsr ${msr.toString(16)}`);
    t.ok(isGp(() => writeMsr(cfg, pkg, msr, 0n)), `wrmsr ${msr.toString(16)}`);
  }
  t.end();
});

t.test('TME not enumerated: all four TME MSRs #GP on read and write', (t) => {
  const { cfg, pkg } = mk({ tme: false });
  for (const msr of [CAP, ACT, EMASK, EBASE]) {
    t.ok(isGp(() => readMsr(cfg, pkg, msr, 0)), `rdmsr ${msr.toString(16)}`);
    t.ok(isGp(() => writeMsr(cfg, pkg, msr, 0n)), `wrmsr ${msr.toString(16)}`);
  }
  t.equal(pkg.tmeActivate, 0n);
  t.equal(readMsr(cfg, pkg, TSC, 9), 9n, 'the TSC still works');
  t.end();
});

t.test('IA32_TME_CAPABILITY fields', (t) => {
  let { cfg, pkg } = mk();
  const v = readMsr(cfg, pkg, CAP, 0);
  t.equal(v, 0b101n | B(31) | (6n << 32n) | (63n << 36n), 'default machine');
  t.equal(v & 1n, 1n, 'bit 0 AES-XTS-128');
  t.equal(v & 2n, 0n, 'bit 1 (integrity) not supported');
  t.equal(v & 4n, 4n, 'bit 2 AES-XTS-256');
  t.equal((v >> 31n) & 1n, 1n, 'bit 31 bypass supported');
  t.equal((v >> 32n) & 0xfn, 6n, 'MK_TME_MAX_KEYID_BITS');
  t.equal((v >> 36n) & 0x7fffn, 63n, 'MK_TME_MAX_KEYS');
  t.equal(v >> 51n, 0n, '63:51 reserved');
  ({ cfg, pkg } = mk({ algs: ['aes-xts-256'], bypassSupported: false, maxKeyIdBits: 15, maxKeys: 32767 }));
  const w = readMsr(cfg, pkg, CAP, 0);
  t.equal(w & 0xffffn, 4n, 'only AES-XTS-256');
  t.equal((w >> 31n) & 1n, 0n, 'no bypass');
  t.equal((w >> 32n) & 0xfn, 15n);
  t.equal((w >> 36n) & 0x7fffn, 32767n);
  ({ cfg, pkg } = mk({ maxKeyIdBits: 0, maxKeys: 0 }));
  t.equal(readMsr(cfg, pkg, CAP, 0) >> 32n, 0n, 'no MKTME: 50:32 zero');
  t.ok(isGp(() => writeMsr(cfg, pkg, CAP, readMsr(cfg, pkg, CAP, 0))), 'CAPABILITY is read-only');
  t.end();
});

t.test('ACTIVATE: enable = 0 locks TME disabled, reads x..x01b', (t) => {
  const { cfg, pkg } = mk();
  t.equal(readMsr(cfg, pkg, ACT, 0), 0n, 'power-on value');
  writeMsr(cfg, pkg, ACT, policy(2) | 1n); // written lock bit ignored
  const v = readMsr(cfg, pkg, ACT, 0);
  t.equal(v & 3n, 1n, 'x..x01b');
  t.equal(v, policy(2) | 1n, 'other bits as written');
  t.notOk(pkg.engine.enabled);
  t.ok(isGp(() => writeMsr(cfg, pkg, ACT, ENABLE)), 'locked: #GP (spec table; SDM says ignored)');
  t.equal(pkg.tmeActivate, v, 'unchanged');
  t.end();
});

t.test('ACTIVATE: enable = 1 new key: enabled and locked, x..x011b', (t) => {
  const { cfg, pkg } = mk();
  const w = ENABLE | policy(2) | BYPASS | keyIdBits(4) | algs(0b101) | SAVE;
  writeMsr(cfg, pkg, ACT, w);
  const v = readMsr(cfg, pkg, ACT, 0);
  t.equal(v & 7n, 3n, 'x..x011b');
  t.equal(v, w | 1n, 'any other legal value reads back as written with lock = 1');
  t.ok(pkg.engine.enabled);
  t.equal(pkg.engine.keyIdBits, 4);
  t.ok(pkg.engine.bypass);
  t.ok(isGp(() => writeMsr(cfg, pkg, ACT, ENABLE)), 'locked');
  t.ok(isGp(() => writeMsr(cfg, pkg, ACT, v)), 'locked, same value');
  t.equal(pkg.tmeActivate, v);
  t.end();
});

t.test('ACTIVATE: written lock bit is ignored (an unlocked write with bit 0 works)', (t) => {
  const { cfg, pkg } = mk();
  writeMsr(cfg, pkg, ACT, ENABLE | 1n);
  t.equal(readMsr(cfg, pkg, ACT, 0), 3n);
  t.end();
});

t.test('ACTIVATE: RNG failure: not enabled, not locked, x..x000b, KeyID bits not committed', (t) => {
  const { cfg, pkg } = mk();
  pkg.engine.injectActivateRngFailure = true;
  writeMsr(cfg, pkg, ACT, ENABLE | keyIdBits(6) | algs(1));
  const v = readMsr(cfg, pkg, ACT, 0);
  t.equal(v & 7n, 0n, 'x..x000b');
  t.equal((v >> 32n) & 0xfn, 0n, 'KeyID bits not committed');
  t.notOk(pkg.engine.enabled);
  t.equal(pkg.engine.keyIdBits, 0);
  // Not locked: the BIOS may retry.
  pkg.engine.injectActivateRngFailure = false;
  writeMsr(cfg, pkg, ACT, ENABLE | keyIdBits(6) | algs(1));
  t.equal(readMsr(cfg, pkg, ACT, 0) & 7n, 3n, 'retry succeeds');
  t.equal(pkg.engine.keyIdBits, 6);
  t.end();
});

t.test('ACTIVATE: key select = 1 restore: x..x111b, or x..x100b for a zero key', (t) => {
  const { cfg, pkg } = mk();
  writeMsr(cfg, pkg, ACT, ENABLE | KEY_SELECT | keyIdBits(2));
  let v = readMsr(cfg, pkg, ACT, 0);
  t.equal(v & 7n, 4n, 'nothing saved: zero key restored, x..x100b');
  t.equal((v >> 32n) & 0xfn, 0n, 'KeyID bits not committed');
  t.notOk(pkg.engine.enabled);
  // Cold boot with SAVE_KEY_FOR_STANDBY, then S3 (reset keeping the saved key), then restore.
  writeMsr(cfg, pkg, ACT, ENABLE | SAVE | keyIdBits(2) | algs(1));
  t.equal(readMsr(cfg, pkg, ACT, 0) & 7n, 3n);
  const plain = new Uint8Array(LINE).fill(0x5a);
  const ct1 = new Uint8Array(LINE);
  pkg.engine.encrypt(0, 0x100000, plain, 0, ct1, 0);
  t.same(ct1, tmeLine(0x100000, plain), 'TME encrypts KeyID 0 under the platform key');
  pkg.reset(true);
  t.equal(readMsr(cfg, pkg, ACT, 0), 0n, 'reset clears the MSR');
  writeMsr(cfg, pkg, ACT, ENABLE | KEY_SELECT | SAVE | keyIdBits(2) | algs(1));
  v = readMsr(cfg, pkg, ACT, 0);
  t.equal(v & 7n, 7n, 'x..x111b');
  t.ok(pkg.engine.enabled);
  const ct2 = new Uint8Array(LINE);
  pkg.engine.encrypt(0, 0x100000, plain, 0, ct2, 0);
  t.same(ct2, ct1, 'the restored key is the saved one');
  t.end();
});

t.test('ACTIVATE: #GP rows, each leaving the MSR and engine unchanged', (t) => {
  const cases: [string, Partial<CpuConfig>, bigint][] = [
    ['reserved bit 8', {}, ENABLE | B(8)],
    ['reserved bit 30', {}, ENABLE | B(30)],
    ['reserved bit 36 (TDX KeyID bits)', {}, ENABLE | B(36)],
    ['reserved bit 39', {}, ENABLE | B(39)],
    ['reserved bit 40', {}, ENABLE | B(40)],
    ['reserved bit 47', {}, ENABLE | B(47)],
    ['bypass not supported', { bypassSupported: false }, ENABLE | BYPASS],
    ['KeyID bits without MKTME', { maxKeyIdBits: 0, maxKeys: 0 }, ENABLE | keyIdBits(1)],
    ['crypto algs without MKTME', { maxKeyIdBits: 0, maxKeys: 0 }, ENABLE | algs(1)],
    ['policy 1 (integrity) not in CAPABILITY', {}, ENABLE | policy(1)],
    ['policy 3 not in CAPABILITY', {}, ENABLE | policy(3)],
    ['policy 15 not in CAPABILITY', {}, ENABLE | policy(15)],
    ['policy 2 without AES-XTS-256', { algs: ['aes-xts-128'] }, ENABLE | policy(2)],
    ['policy 0 without AES-XTS-128', { algs: ['aes-xts-256'] }, ENABLE],
    ['policy checked with enable = 0 too', {}, policy(1)],
    ['KeyID bits > MAX_KEYID_BITS', {}, ENABLE | keyIdBits(7)],
    ['KeyID bits 15 > 6', {}, ENABLE | keyIdBits(15)],
    ['KeyID bits > 0 with enable = 0', {}, keyIdBits(1)],
    ['crypto alg bit 49 (integrity, unsupported)', {}, ENABLE | keyIdBits(1) | algs(0b10)],
    ['crypto alg bit 51 reserved', {}, ENABLE | keyIdBits(1) | B(51)],
    ['crypto alg bit 63 reserved', {}, ENABLE | keyIdBits(1) | B(63)],
    ['crypto alg bit 50 without AES-XTS-256', { algs: ['aes-xts-128'] }, ENABLE | keyIdBits(1) | algs(0b100)],
    ['value above 64 bits', {}, ENABLE | B(64)],
    ['negative value', {}, -1n],
  ];
  for (const [name, cpu, value] of cases) {
    const { cfg, pkg } = mk(cpu);
    t.ok(isGp(() => writeMsr(cfg, pkg, ACT, value)), name);
    t.equal(pkg.tmeActivate, 0n, `${name}: MSR unchanged`);
    t.notOk(pkg.engine.enabled, `${name}: engine unchanged`);
  }
  t.end();
});

t.test('ACTIVATE: legal edge values', (t) => {
  const ok: [string, Partial<CpuConfig>, bigint][] = [
    ['KeyID bits = MAX_KEYID_BITS', {}, ENABLE | keyIdBits(6) | algs(0b101)],
    ['KeyID bits 15 when max is 15', { maxKeyIdBits: 15, maxKeys: 32767 }, ENABLE | keyIdBits(15) | algs(1)],
    ['policy 2 (AES-XTS-256)', {}, ENABLE | policy(2)],
    ['bypass supported', {}, ENABLE | BYPASS],
    ['no MKTME, plain TME', { maxKeyIdBits: 0, maxKeys: 0 }, ENABLE],
    ['algs with KeyID bits 0', {}, ENABLE | algs(1)],
    ['key select with enable = 0', {}, KEY_SELECT],
  ];
  for (const [name, cpu, value] of ok) {
    const { cfg, pkg } = mk(cpu);
    writeMsr(cfg, pkg, ACT, value);
    t.equal(readMsr(cfg, pkg, ACT, 0), value | 1n, `${name}: locked, reads back as written`);
  }
  t.end();
});

t.test('EXCLUDE_MASK / EXCLUDE_BASE: read back, reserved bits, width', (t) => {
  const { cfg, pkg } = mk(); // MAXPHYADDR 46
  const top = B(46) - B(12); // bits 45:12
  writeMsr(cfg, pkg, EBASE, B(45) | B(30) | B(12));
  t.equal(readMsr(cfg, pkg, EBASE, 0), B(45) | B(30) | B(12));
  writeMsr(cfg, pkg, EMASK, top | B(11));
  t.equal(readMsr(cfg, pkg, EMASK, 0), top | B(11), 'bit 11 enable is writable on the mask');
  for (let b = 0; b <= 10; b++) t.ok(isGp(() => writeMsr(cfg, pkg, EMASK, top | B(b))), `mask bit ${b} reserved`);
  for (let b = 0; b <= 11; b++) t.ok(isGp(() => writeMsr(cfg, pkg, EBASE, B(b))), `base bit ${b} reserved`);
  for (const b of [46, 47, 51, 63]) {
    t.ok(isGp(() => writeMsr(cfg, pkg, EMASK, top | B(b))), `mask bit ${b} above MAXPHYADDR`);
    t.ok(isGp(() => writeMsr(cfg, pkg, EBASE, B(b))), `base bit ${b} above MAXPHYADDR`);
  }
  t.equal(readMsr(cfg, pkg, EMASK, 0), top | B(11), 'faulting writes changed nothing');
  t.equal(readMsr(cfg, pkg, EBASE, 0), B(45) | B(30) | B(12));
  const wide = mk({ maxPhysAddr: 52 });
  writeMsr(wide.cfg, wide.pkg, EMASK, B(52) - B(12));
  writeMsr(wide.cfg, wide.pkg, EBASE, B(51));
  t.equal(readMsr(wide.cfg, wide.pkg, EBASE, 0), B(51), 'MAXPHYADDR 52: bit 51 is address');
  t.ok(isGp(() => writeMsr(wide.cfg, wide.pkg, EBASE, B(52))), 'MAXPHYADDR 52: bit 52 reserved');
  const narrow = mk({ maxPhysAddr: 39 });
  writeMsr(narrow.cfg, narrow.pkg, EBASE, B(38));
  t.ok(isGp(() => writeMsr(narrow.cfg, narrow.pkg, EBASE, B(39))), 'MAXPHYADDR 39: bit 39 reserved');
  t.end();
});

t.test('EXCLUDE_MASK contiguity', (t) => {
  const { cfg, pkg } = mk();
  const ones = (hi: number, lo: number): bigint => B(hi + 1) - B(lo);
  for (const [name, v] of [
    ['zero (empty mask)', 0n], ['top bit only', B(45)], ['4 KiB region', ones(45, 12)],
    ['1 GiB region', ones(45, 30)], ['with enable', ones(45, 20) | B(11)],
  ] as [string, bigint][]) {
    writeMsr(cfg, pkg, EMASK, v);
    t.equal(readMsr(cfg, pkg, EMASK, 0), v, `${name}: accepted`);
  }
  for (const [name, v] of [
    ['hole at bit 30', ones(45, 20) - B(30)], ['missing top bit', ones(44, 20)],
    ['single low bit', B(20)], ['two runs', ones(45, 40) | ones(30, 20)], ['bit 12 only', B(12)],
  ] as [string, bigint][]) {
    t.ok(isGp(() => writeMsr(cfg, pkg, EMASK, v | B(11))), `${name}: not contiguous`);
  }
  t.end();
});

t.test('EXCLUDE MSRs #GP after lock, whichever way ACTIVATE locked', (t) => {
  for (const act of [0n, ENABLE | keyIdBits(1) | algs(1)]) {
    const { cfg, pkg } = mk();
    writeMsr(cfg, pkg, EBASE, B(30));
    writeMsr(cfg, pkg, EMASK, (B(46) - B(30)) | B(11));
    writeMsr(cfg, pkg, ACT, act);
    t.ok(isGp(() => writeMsr(cfg, pkg, EMASK, 0n)), `mask after lock (act ${act.toString(16)})`);
    t.ok(isGp(() => writeMsr(cfg, pkg, EBASE, 0n)), `base after lock (act ${act.toString(16)})`);
    t.equal(readMsr(cfg, pkg, EMASK, 0), (B(46) - B(30)) | B(11), 'mask still readable, unchanged');
    t.equal(readMsr(cfg, pkg, EBASE, 0), B(30), 'base unchanged');
  }
  // A failed activation does not lock: the exclusion MSRs stay writable.
  const { cfg, pkg } = mk();
  pkg.engine.injectActivateRngFailure = true;
  writeMsr(cfg, pkg, ACT, ENABLE);
  writeMsr(cfg, pkg, EBASE, B(31));
  t.equal(readMsr(cfg, pkg, EBASE, 0), B(31));
  t.end();
});

t.test('the exclusion range reaches the engine on lock (KeyID 0 only)', (t) => {
  const { cfg, pkg } = mk();
  const base = 2 ** 33; // above 4 GiB: checks arithmetic beyond 32 bits
  writeMsr(cfg, pkg, EBASE, BigInt(base));
  writeMsr(cfg, pkg, EMASK, (B(46) - B(21)) | B(11)); // 2 MiB
  writeMsr(cfg, pkg, ACT, ENABLE | keyIdBits(2) | algs(1));
  const plain = new Uint8Array(LINE).fill(0xa5);
  const out = new Uint8Array(LINE);
  pkg.engine.encrypt(0, base + 0x1000, plain, 0, out, 0);
  t.same(out, plain, 'inside the range: plaintext');
  pkg.engine.encrypt(0, base + 2 ** 21, plain, 0, out, 0);
  t.same(out, tmeLine(base + 2 ** 21, plain), 'just past the range: encrypted');
  pkg.engine.encrypt(0, base - LINE, plain, 0, out, 0);
  t.same(out, tmeLine(base - LINE, plain), 'just below the range: encrypted');
  t.equal(pkg.engine.keyMode(1), KEY_MODE_TME);
  pkg.engine.encrypt(1, base + 0x1000, plain, 0, out, 0);
  t.same(out, tmeLine(base + 0x1000, plain), 'KeyID 1 is not excluded: the TME key');
  t.end();
});

t.test('exclusion with enable clear is not applied', (t) => {
  const { cfg, pkg } = mk();
  writeMsr(cfg, pkg, EBASE, 0n);
  writeMsr(cfg, pkg, EMASK, B(46) - B(21)); // no enable bit
  writeMsr(cfg, pkg, ACT, ENABLE);
  const plain = new Uint8Array(LINE).fill(1);
  const out = new Uint8Array(LINE);
  pkg.engine.encrypt(0, 0x1000, plain, 0, out, 0);
  t.same(out, tmeLine(0x1000, plain), 'encrypted under the platform key, as outside any range');
  t.end();
});
