/**
 * The noble-based reference XTS (xts-ref.ts): the published IEEE 1619-2007 and CAVS
 * vectors, node:crypto on seeded random inputs, tweak encoding, alpha, argument checks.
 */
import t from 'tap';
import { Rng } from '../../arch/x86/hw/rng.js';
import { addrTweak, mulAlpha, xtsDecrypt, xtsEncrypt } from '../../arch/x86/hw/crypto/xts-ref.js';
import { hex, keys, nodeXts, toHex } from './helpers.js';
import { EXTRA, IEEE1619 } from './ieee1619-vectors.js';

t.test('reference reproduces the IEEE 1619-2007 and CAVS vectors; node agrees', (t) => {
  for (const v of [...IEEE1619, ...EXTRA]) {
    const [k1, k2, tw, pt, ct] = [hex(v.key1), hex(v.key2), hex(v.tweak), hex(v.pt), hex(v.ct)];
    t.equal(toHex(xtsEncrypt(k1, k2, tw, pt)), v.ct, `${v.name}: encrypt`);
    t.equal(toHex(xtsDecrypt(k1, k2, tw, ct)), v.pt, `${v.name}: decrypt`);
    if (v.key1 !== v.key2) {
      t.equal(toHex(nodeXts(true, k1, k2, tw, pt)), v.ct, `${v.name}: node:crypto agrees`);
    }
  }
  t.equal(IEEE1619.length, 19, 'all of Vectors 1-19');
  t.ok(IEEE1619.some((v) => v.pt.length % 32 !== 0), 'ciphertext-stealing vectors included');
  t.end();
});

t.test('Vector 1: key1 == key2 == 0 is accepted and gives the IEEE 1619-2007 XTS-AES test vectors ciphertext', (t) => {
  const z = new Uint8Array(16);
  t.equal(toHex(xtsEncrypt(z, z, new Uint8Array(16), new Uint8Array(32))),
    '917cf69ebd68b2ec9b9fe9a3eadda692cd43d2f59598ed858c02c2652fbf922e');
  t.end();
});

t.test('differential: reference vs node:crypto on seeded random inputs', (t) => {
  const rng = new Rng(1619);
  let bad = '';
  for (let n = 0; n < 300 && !bad; n++) {
    const [k1, k2] = keys(rng, n % 2 ? 32 : 16);
    const tw = rng.fill(new Uint8Array(16));
    const len = 16 + rng.below(n < 200 ? 120 : 2048);
    const pt = rng.fill(new Uint8Array(len));
    const ct = xtsEncrypt(k1, k2, tw, pt);
    if (toHex(ct) !== toHex(nodeXts(true, k1, k2, tw, pt))) bad = `encrypt case ${n}, len ${len}`;
    else if (toHex(xtsDecrypt(k1, k2, tw, ct)) !== toHex(pt)) bad = `decrypt case ${n}, len ${len}`;
    else if (toHex(nodeXts(false, k1, k2, tw, ct)) !== toHex(pt)) bad = `node decrypt case ${n}`;
  }
  t.equal(bad, '', '300 cases, lengths 16..2063, AES-128 and AES-256');
  t.end();
});

t.test('address tweaks are the little-endian address, up to 2^53 - 1', (t) => {
  t.equal(toHex(addrTweak(2 ** 46 - 64)), 'c0ffffffff3f0000' + '00'.repeat(8));
  t.equal(toHex(addrTweak(2 ** 52 - 64)), 'c0ffffffffff0f00' + '00'.repeat(8));
  t.equal(toHex(addrTweak(2 ** 53 - 1)), 'ffffffffffff1f00' + '00'.repeat(8));
  t.equal(toHex(addrTweak(0x123456789a)), '9a78563412' + '00'.repeat(11));
  t.throws(() => addrTweak(2 ** 53), RangeError);
  t.throws(() => addrTweak(-1), RangeError);
  t.end();
});

t.test('the reference leaves caller keys alone and checks its arguments', (t) => {
  const k1 = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex'); // Buffer.slice would alias
  const k2 = Buffer.from('f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff', 'hex');
  xtsEncrypt(k1, k2, new Uint8Array(16), new Uint8Array(64));
  t.equal(k1.toString('hex') + k2.toString('hex'), '000102030405060708090a0b0c0d0e0ff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff');
  const z = new Uint8Array(16);
  t.throws(() => xtsEncrypt(z, z, z, new Uint8Array(15)), RangeError, 'data unit under 16 bytes');
  t.throws(() => xtsEncrypt(z, z, new Uint8Array(8), new Uint8Array(16)), RangeError, 'short tweak');
  t.throws(() => xtsEncrypt(z, new Uint8Array(32), z, new Uint8Array(16)), RangeError, '16 + 32 key bytes');
  t.throws(() => xtsDecrypt(new Uint8Array(24), new Uint8Array(24), z, new Uint8Array(16)), RangeError, 'AES-192');
  t.end();
});

t.test('mulAlpha: the IEEE 1619 §5.2 shift with the 0x87 fold', (t) => {
  const m = (w: number[]): number[] => { const a = Uint32Array.from(w); mulAlpha(a); return [...a]; };
  t.same(m([1, 0, 0, 0]), [2, 0, 0, 0]);
  t.same(m([0x80000000, 0, 0, 0]), [0, 1, 0, 0]);
  t.same(m([0, 0x80000000, 0x80000000, 0]), [0, 0, 1, 1]);
  t.same(m([0, 0, 0, 0x80000000]), [0x87, 0, 0, 0]);
  t.same(m([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff]), [0xffffff79, 0xffffffff, 0xffffffff, 0xffffffff]);
  t.end();
});
