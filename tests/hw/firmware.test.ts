/**
 * The BIOS: e820 and memory affinity from the board map, and the TME MSR programming
 * at power-on and S3 resume in every cfg.bios configuration, including invalid ones.
 */
import t from 'tap';
import { GiB, makeConfig, MiB, type BiosConfig, type CpuConfig, type MachineConfig } from '../../arch/x86/hw/config.js';
import { LINE } from '../../arch/x86/hw/engine.js';
import {
  biosActivateValue, biosExcludeValues, biosKeyIdBits, buildE820, buildMemAffinity, resumeBios, runBios,
} from '../../arch/x86/hw/firmware.js';
import { E820_TYPE_PMEM, E820_TYPE_RAM, E820_TYPE_RESERVED, Fault } from '../../arch/x86/hw/isa.js';
import { buildMemMap, type PhysRange } from '../../arch/x86/hw/memmap.js';
import { MSR_IA32_TME_ACTIVATE, MSR_IA32_TME_EXCLUDE_BASE, readMsr, writeMsr } from '../../arch/x86/hw/msr.js';
import { Package } from '../../arch/x86/hw/package.js';
import { Rng } from '../../arch/x86/hw/rng.js';
import { addrTweak, xtsEncrypt } from '../../arch/x86/hw/crypto/xts-ref.js';

function boot(bios: Partial<BiosConfig> = {}, cpu: Partial<CpuConfig> = {}, packages = 2):
  { cfg: MachineConfig; pkgs: Package[]; warnings: string[] } {
  const cfg = makeConfig({ packages, bios, cpu });
  const rng = new Rng(3);
  const pkgs = Array.from({ length: packages }, (_, i) => new Package(i, cfg, rng));
  return { cfg, pkgs, warnings: runBios(cfg, pkgs) };
}

/**
 * What ct() must give under package `pkg`'s platform key (AES-XTS-128 policy): boot()'s
 * packages share Rng(3) and the BIOS activates them in order, 32 bytes each.
 */
function tmeCt(pkg: number, addr: number): Uint8Array {
  const rng = new Rng(3);
  let k: Uint8Array = new Uint8Array(32);
  for (let i = 0; i <= pkg; i++) k = rng.fill(new Uint8Array(32));
  return xtsEncrypt(k.subarray(0, 16), k.subarray(16), addrTweak(addr), new Uint8Array(LINE).fill(0x11));
}

const kbits = (v: bigint): number => Number((v >> 32n) & 0xfn);
const algsOf = (v: bigint): number => Number((v >> 48n) & 0xffffn);

function ct(pkg: Package, keyid: number, addr: number): Uint8Array {
  const out = new Uint8Array(LINE);
  pkg.engine.encrypt(keyid, addr, new Uint8Array(LINE).fill(0x11), 0, out, 0);
  return out;
}
const PLAIN = new Uint8Array(LINE).fill(0x11);

t.test('e820: legacy MiB reserved, DRAM as RAM, NVRAM as PMEM, sorted', (t) => {
  const cfg = makeConfig({ packages: 2, memPerNode: 2 * GiB, nvramSize: 256 * MiB });
  const map = buildMemMap(cfg);
  const e820 = buildE820([...map].reverse()); // input order must not matter
  t.same(e820, [
    { addr: 0, size: MiB, type: E820_TYPE_RESERVED },
    { addr: MiB, size: 2 * GiB - MiB, type: E820_TYPE_RAM },
    { addr: 2 * GiB, size: GiB, type: E820_TYPE_RAM },
    { addr: 4 * GiB, size: GiB, type: E820_TYPE_RAM },
    { addr: 5 * GiB, size: 256 * MiB, type: E820_TYPE_PMEM },
  ]);
  for (let i = 1; i < e820.length; i++) t.ok(e820[i].addr >= e820[i - 1].addr + e820[i - 1].size, 'sorted, no overlap');
  t.notOk(e820.some((e) => e.addr < 4 * GiB && e.addr + e.size > 3 * GiB), 'nothing in the PCI hole');
  const noNv = buildE820(buildMemMap(makeConfig({ nvramSize: 0 })));
  t.notOk(noNv.some((e) => e.type === E820_TYPE_PMEM), 'no NVRAM, no PMEM entry');
  t.end();
});

t.test('memory affinity: every range with its node, sorted', (t) => {
  const cfg = makeConfig({ packages: 2, memPerNode: 2 * GiB, nvramSize: 256 * MiB });
  const aff = buildMemAffinity([...buildMemMap(cfg)].reverse());
  t.same(aff, [
    { base: 0, size: MiB, node: 0 },
    { base: MiB, size: 2 * GiB - MiB, node: 0 },
    { base: 2 * GiB, size: GiB, node: 1 },
    { base: 4 * GiB, size: GiB, node: 1 },
    { base: 5 * GiB, size: 256 * MiB, node: 0 },
  ]);
  const map: PhysRange[] = [{ base: 0, size: MiB, node: 3, kind: 'dram', reserved: false }];
  t.same(buildMemAffinity(map), [{ base: 0, size: MiB, node: 3 }]);
  t.end();
});

t.test('default BIOS: TME and MKTME on every package, locked', (t) => {
  const { cfg, pkgs, warnings } = boot();
  t.same(warnings, []);
  for (const p of pkgs) {
    const v = readMsr(cfg, p, MSR_IA32_TME_ACTIVATE, 0);
    t.equal(v & 0xffn, 3n, 'locked, enabled, new key, policy AES-XTS-128');
    t.equal(kbits(v), 6);
    t.equal(algsOf(v), 0b101);
    t.equal((v >> 31n) & 1n, 0n, 'no bypass');
    t.ok(p.engine.enabled);
    t.equal(p.engine.keyIdBits, 6);
    t.same(ct(p, 0, 0x100000), tmeCt(p.index, 0x100000), 'KeyID 0 encrypted under this package\'s key');
    t.equal(p.excludeMask, 0n, 'no exclusion');
    t.throws(() => writeMsr(cfg, p, MSR_IA32_TME_ACTIVATE, 0n), Fault, 'locked for the kernel');
  }
  // Each key is checked exactly above; that the two differ is the point here.
  t.notSame(tmeCt(0, 0x100000), tmeCt(1, 0x100000), 'each package makes its own key');
  t.end();
});

t.test('tme = false: locked disabled', (t) => {
  const { cfg, pkgs, warnings } = boot({ tme: false, keyIdBits: 6, bypass: true, saveKey: true });
  t.same(warnings, []);
  for (const p of pkgs) {
    t.equal(p.tmeActivate, 1n, 'x..x01b, nothing else');
    t.notOk(p.engine.enabled);
    t.same(ct(p, 0, 0x100000), PLAIN, 'plaintext');
    t.throws(() => writeMsr(cfg, p, MSR_IA32_TME_ACTIVATE, 2n), Fault, 'the kernel cannot enable it later');
  }
  t.end();
});

t.test('lock = false: nothing written', (t) => {
  const { cfg, pkgs, warnings } = boot({ lock: false, exclude: { base: 0, size: 16 * MiB } });
  t.same(warnings, []);
  for (const p of pkgs) {
    t.equal(p.tmeActivate, 0n);
    t.equal(p.excludeMask, 0n);
    t.equal(p.excludeBase, 0n);
    t.notOk(p.engine.enabled);
  }
  writeMsr(cfg, pkgs[0], MSR_IA32_TME_ACTIVATE, 2n);
  t.equal(pkgs[0].tmeActivate, 3n, 'still writable: unlocked');
  t.end();
});

t.test('keyIdBits 0..max', (t) => {
  for (let k = 0; k <= 6; k++) {
    const { pkgs, warnings } = boot({ keyIdBits: k });
    t.same(warnings, [], `k=${k}`);
    for (const p of pkgs) {
      t.equal(kbits(p.tmeActivate), k, `k=${k}: MSR`);
      t.equal(p.engine.keyIdBits, k, `k=${k}: engine`);
      t.equal(p.tmeActivate & 3n, 3n);
    }
  }
  t.end();
});

t.test('policy, algs, bypass, saveKey', (t) => {
  let b = boot({ policy: 'aes-xts-256', algs: ['aes-xts-256'] });
  t.same(b.warnings, []);
  t.equal((b.pkgs[0].tmeActivate >> 4n) & 0xfn, 2n, 'policy 2');
  t.equal(algsOf(b.pkgs[0].tmeActivate), 0b100);
  b = boot({ algs: ['aes-xts-128'] });
  t.equal(algsOf(b.pkgs[1].tmeActivate), 0b1);
  b = boot({ algs: [] });
  t.equal(algsOf(b.pkgs[1].tmeActivate), 0, 'no algorithm allowed for MKTME');
  b = boot({ bypass: true });
  t.same(b.warnings, []);
  for (const p of b.pkgs) {
    t.equal((p.tmeActivate >> 31n) & 1n, 1n, 'bypass bit');
    t.ok(p.engine.bypass);
    t.same(ct(p, 0, 0x100000), PLAIN, 'KeyID 0 bypassed');
  }
  b = boot({ saveKey: true });
  t.equal(b.pkgs[0].tmeActivate & 0xfn, 0b1011n, 'save-key bit 3');
  t.end();
});

t.test('no MKTME on the CPU: TME only, crypto algs left clear', (t) => {
  const { pkgs, warnings } = boot({ keyIdBits: 0 }, { maxKeyIdBits: 0, maxKeys: 0 });
  t.same(warnings, []);
  for (const p of pkgs) t.equal(p.tmeActivate, 3n);
  t.end();
});

t.test('exclusion range', (t) => {
  const base = 4 * GiB;
  const size = 64 * MiB;
  const { cfg, pkgs, warnings } = boot({ exclude: { base, size } });
  t.same(warnings, []);
  const ex = biosExcludeValues(cfg);
  t.same(ex, { base: BigInt(base), mask: ((1n << 46n) - 1n) - BigInt(size - 1) + 0x800n });
  for (const p of pkgs) {
    t.equal(p.excludeBase, BigInt(base));
    t.equal(p.excludeMask, ((1n << 46n) - (1n << 26n)) | 0x800n, 'bits 45:26 and enable');
    t.same(ct(p, 0, base + 12345 * LINE), PLAIN, 'inside: plaintext');
    t.same(ct(p, 0, base + size), tmeCt(p.index, base + size), 'after: encrypted');
    t.same(ct(p, 0, base - LINE), tmeCt(p.index, base - LINE), 'before: encrypted');
    t.same(ct(p, 1, base), tmeCt(p.index, base), 'KeyID 1 not excluded: the TME key');
    t.throws(() => writeMsr(cfg, p, MSR_IA32_TME_EXCLUDE_BASE, 0n), Fault, 'locked');
  }
  t.end();
});

t.test('invalid exclusion: warning, no exclusion, TME still activated', (t) => {
  for (const exclude of [{ base: 0, size: 3 * MiB }, { base: 2 ** 47, size: 4096 }]) {
    const { pkgs, warnings } = boot({ exclude });
    t.equal(warnings.length, 4, 'a #GP and a "not set" per package');
    t.match(warnings[0], /package 0: wrmsr 0x98[34] .* faulted/);
    t.match(warnings[1], /package 0: TME exclusion range not set/);
    for (const p of pkgs) {
      t.equal(p.excludeMask, 0n, 'exclusion not enabled');
      t.equal(p.tmeActivate & 3n, 3n, 'TME on anyway');
      t.same(ct(p, 0, 0), tmeCt(p.index, 0));
    }
  }
  t.end();
});

t.test('inconsistent: packages after 0 get a different KeyID-bit count', (t) => {
  t.equal(biosKeyIdBits(makeConfig({ bios: { inconsistent: true, keyIdBits: 6 } }), 0), 6);
  t.equal(biosKeyIdBits(makeConfig({ bios: { inconsistent: true, keyIdBits: 6 } }), 1), 5);
  t.equal(biosKeyIdBits(makeConfig({ bios: { inconsistent: true, keyIdBits: 0 } }), 1), 1);
  t.equal(biosKeyIdBits(makeConfig({ bios: { inconsistent: false, keyIdBits: 6 } }), 1), 6);
  const { pkgs, warnings } = boot({ inconsistent: true, keyIdBits: 4 }, {}, 3);
  t.same(warnings, []);
  t.same(pkgs.map((p) => kbits(p.tmeActivate)), [4, 3, 3]);
  t.same(pkgs.map((p) => p.engine.keyIdBits), [4, 3, 3]);
  t.ok(pkgs.every((p) => (p.tmeActivate & 3n) === 3n));
  const z = boot({ inconsistent: true, keyIdBits: 0 });
  t.same(z.pkgs.map((p) => kbits(p.tmeActivate)), [0, 1]);
  t.end();
});

t.test('invalid BIOS settings: #GP caught, package left unactivated, warnings', (t) => {
  const cases: [string, Partial<BiosConfig>, Partial<CpuConfig>][] = [
    ['keyIdBits > max', { keyIdBits: 7 }, {}],
    ['policy not supported', { policy: 'aes-xts-256' }, { algs: ['aes-xts-128'] }],
    ['alg not supported', { algs: ['aes-xts-256'] }, { algs: ['aes-xts-128'] }],
    ['bypass not supported', { bypass: true }, { bypassSupported: false }],
    ['keyIdBits without MKTME', { keyIdBits: 2 }, { maxKeyIdBits: 0, maxKeys: 0 }],
  ];
  for (const [name, bios, cpu] of cases) {
    const { cfg, pkgs, warnings } = boot(bios, cpu);
    t.equal(warnings.length, 4, `${name}: two warnings per package`);
    t.match(warnings[0], /package 0: wrmsr 0x982 = 0x[0-9a-f]+ faulted/, name);
    t.match(warnings[1], /package 0: TME not activated/);
    t.match(warnings[2], /package 1:/);
    for (const p of pkgs) {
      t.equal(p.tmeActivate, 0n, `${name}: unlocked`);
      t.notOk(p.engine.enabled);
    }
    t.doesNotThrow(() => writeMsr(cfg, pkgs[0], MSR_IA32_TME_ACTIVATE, 2n), `${name}: still writable`);
  }
  // Inconsistent with keyIdBits = max + 1 on package 0 only: package 0 fails, package 1 (k-1) works.
  const { pkgs, warnings } = boot({ keyIdBits: 7, inconsistent: true });
  t.equal(warnings.length, 2);
  t.equal(pkgs[0].tmeActivate, 0n);
  t.equal(kbits(pkgs[1].tmeActivate), 6);
  t.end();
});

t.test('CPU without TME: nothing written, a warning if the BIOS wanted TME', (t) => {
  let b = boot({}, { tme: false });
  t.equal(b.warnings.length, 2);
  t.match(b.warnings[0], /not supported/);
  t.ok(b.pkgs.every((p) => p.tmeActivate === 0n && !p.engine.enabled));
  b = boot({ tme: false }, { tme: false });
  t.same(b.warnings, []);
  t.end();
});

t.test('RNG failure at power-on: warning, package not locked', (t) => {
  const cfg = makeConfig();
  const rng = new Rng(3);
  const pkgs = [new Package(0, cfg, rng), new Package(1, cfg, rng)];
  pkgs[1].engine.injectActivateRngFailure = true;
  const warnings = runBios(cfg, pkgs);
  t.equal(warnings.length, 1);
  t.match(warnings[0], /package 1: TME key generation failed/);
  t.equal(pkgs[0].tmeActivate & 7n, 3n);
  t.equal(pkgs[1].tmeActivate & 7n, 0n, 'x..x000b');
  t.equal(kbits(pkgs[1].tmeActivate), 0);
  t.end();
});

t.test('S3 resume restores the saved key (saveKey) or fails without it', (t) => {
  const exclude = { base: 2 * GiB, size: 2 * MiB };
  const { cfg, pkgs, warnings } = boot({ saveKey: true, exclude });
  t.same(warnings, []);
  const before = pkgs.map((p) => ct(p, 0, 0x200000));
  for (const p of pkgs) p.reset(true);
  t.ok(pkgs.every((p) => p.tmeActivate === 0n && !p.engine.enabled), 'reset');
  t.same(resumeBios(cfg, pkgs), []);
  for (const [i, p] of pkgs.entries()) {
    t.equal(p.tmeActivate & 0xfn, 0b1111n, 'x..x111b with save-key');
    t.equal(kbits(p.tmeActivate), 6);
    t.same(ct(p, 0, 0x200000), before[i], 'same platform key as before S3');
    t.same(ct(p, 0, 2 * GiB), PLAIN, 'exclusion reprogrammed');
  }
  t.equal(biosActivateValue(cfg, 0, true) & 4n, 4n, 'KEY_SELECT = 1 on resume');
  t.equal(biosActivateValue(cfg, 0, false) & 4n, 0n, 'KEY_SELECT = 0 at power-on');
  // A second S3 cycle still works (the key was saved again).
  for (const p of pkgs) p.reset(true);
  t.same(resumeBios(cfg, pkgs), []);
  t.same(ct(pkgs[0], 0, 0x200000), before[0]);

  const nosave = boot({ saveKey: false });
  for (const p of nosave.pkgs) p.reset(true);
  const w = resumeBios(nosave.cfg, nosave.pkgs);
  t.equal(w.length, 2);
  t.match(w[0], /package 0: TME key restore failed/);
  for (const p of nosave.pkgs) {
    t.equal(p.tmeActivate & 7n, 4n, 'x..x100b');
    t.notOk(p.engine.enabled);
  }
  // A cold reset forgets the saved key too.
  const cold = boot({ saveKey: true });
  for (const p of cold.pkgs) p.reset(false);
  t.equal(resumeBios(cold.cfg, cold.pkgs).length, 2);
  // Resume with TME off or unlocked behaves as power-on.
  const off = boot({ tme: false });
  for (const p of off.pkgs) p.reset(true);
  t.same(resumeBios(off.cfg, off.pkgs), []);
  t.ok(off.pkgs.every((p) => p.tmeActivate === 1n));
  const unl = boot({ lock: false });
  t.same(resumeBios(unl.cfg, unl.pkgs), []);
  t.ok(unl.pkgs.every((p) => p.tmeActivate === 0n));
  t.end();
});
