/**
 * PCONFIG leaf 0 (MKTME_KEY_PROGRAM): the whole fault order of the current SDM, the
 * TME_ACTIVATE states that refuse it, bad fields (#GP under the SDM, status codes under
 * rev 1.3), the KeyID edges and rev 1.3's reserved bytes. The commands' effects are in
 * pconfig_keys.test.ts.
 */
import t from 'tap';
import { type CpuConfig } from '../../arch/x86/hw/config.js';
import { KEY_MODE_KEY, KEY_MODE_NO_ENCRYPT, KEY_MODE_TME } from '../../arch/x86/hw/engine.js';
import { X86_TRAP_GP, X86_TRAP_PF } from '../../arch/x86/hw/isa.js';
import { MSR_IA32_TME_ACTIVATE, writeMsr } from '../../arch/x86/hw/msr.js';
import { KEYID_SET_KEY_RANDOM, PCONFIG_DEVICE_BUSY, PCONFIG_ENTROPY_ERROR, PCONFIG_INVALID_ENC_ALG, PCONFIG_INVALID_KEYID, PCONFIG_INVALID_PROG_CMD, PCONFIG_PROG_SUCCESS, pconfig } from '../../arch/x86/hw/pconfig.js';
import { MEM, ACT_DEFAULT, type Rig, rig, type KeyProgram, put, K128, K256, seq, fault, REVS } from './pconfig_helpers.js';

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
