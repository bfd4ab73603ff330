/**
 * PCONFIG leaf 0 (MKTME_KEY_PROGRAM), continued: each command's effect on the key table
 * (SET_KEY_DIRECT, SET_KEY_RANDOM, CLEAR_KEY, NO_ENCRYPT), ENTROPY_ERROR and DEVICE_BUSY,
 * the zeroing of every copy of key bytes, and a #PF during the read.
 */
import t from 'tap';
import { KEY_MODE_KEY, KEY_MODE_NO_ENCRYPT, KEY_MODE_TME, LINE } from '../../arch/x86/hw/engine.js';
import { X86_TRAP_PF, X86_TRAP_UD, type PconfigResult } from '../../arch/x86/hw/isa.js';
import { KEYID_CLEAR_KEY, KEYID_NO_ENCRYPT, KEYID_SET_KEY_DIRECT, KEYID_SET_KEY_RANDOM, PCONFIG_DEVICE_BUSY, PCONFIG_ENTROPY_ERROR, pconfig } from '../../arch/x86/hw/pconfig.js';
import { Rng } from '../../arch/x86/hw/rng.js';
import { SEED, MEM, rig, put, K128, K256, seq, fault, ct, ref, rngReplay, xor, REVS } from './pconfig_helpers.js';

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
