/**
 * mktme keys and their hardware KeyIDs: allocation and exhaustion, all-or-nothing
 * programming with retries, the reference lifetime (revoke/invalidate/GC while pages
 * still use the KeyID), key material hygiene, and reprogramming with mktme_storekeys.
 */
import t from 'tap';
import {
  EINVAL, EKEYREVOKED, ENOKEY, EOPNOTSUPP, IS_ERR,
  KEYCTL_INVALIDATE, KEYCTL_READ, KEYCTL_REVOKE, KEYID_AVAILABLE, KEYID_ASSIGNED, KEYID_REF_KILLED,
  KEY_NEED_VIEW, KEY_SPEC_USER_KEYRING, MKTME_DEVICE_BUSY, MKTME_ENTROPY_ERROR, MKTME_INVALID_KEYID,
  MKTME_KEYID_CLEAR_KEY, MKTME_KEYID_SET_KEY_DIRECT, MKTME_KEYID_SET_KEY_RANDOM,
  add_key, key_gc, key_ref_put, key_ref_to_ptr, keyctl, keyctl_describe_alloc, lookup_user_key,
  mktme_keyid_from_key, mktme_keyid_get, mktme_keyid_info, mktme_keyid_put, mktme_reprogram_all,
  proc_keys_show, type key_cred,
} from '../../kernel/keys/index.js';
import { FakeMktme, boot, enc, type ProgramCall } from './helpers.js';

const CPU128 = 'type=cpu algorithm=aes-xts-128';

/** What encrypt_mprotect does: serial -> key (VIEW) -> KeyID. */
function keyid_of(cred: key_cred, serial: number): number {
  const ref = lookup_user_key(cred, serial, 0, KEY_NEED_VIEW);
  if (IS_ERR(ref)) return ref;
  const keyid = mktme_keyid_from_key(key_ref_to_ptr(ref));
  key_ref_put(ref);
  return keyid;
}

const clears = (calls: ProgramCall[], keyid: number): ProgramCall[] =>
  calls.filter((c) => c.keyid === keyid && (c.ctrl & 0xff) === MKTME_KEYID_CLEAR_KEY);

t.test('KeyIDs are handed out lowest first and run out at nr_keyids', async (t) => {
  const { root, hw } = boot({ hw: new FakeMktme(3) });
  const ids = [1, 2, 3].map((i) => add_key(root, 'mktme', `k${i}`, enc(CPU128), KEY_SPEC_USER_KEYRING));
  t.same(ids.map((s) => keyid_of(root, s)), [1, 2, 3]);
  t.equal(add_key(root, 'mktme', 'k4', enc(CPU128), KEY_SPEC_USER_KEYRING), -ENOKEY, 'none free');
  key_gc();
  t.equal(hw.calls.length, 6, 'the refused key programmed nothing');

  t.equal(keyctl(root, KEYCTL_INVALIDATE, ids[1]), 0);
  key_gc();
  t.same(hw.modes(2), [MKTME_KEYID_CLEAR_KEY, MKTME_KEYID_CLEAR_KEY], 'freed KeyID cleared on both packages');
  t.equal(clears(hw.calls, 2)[0].ctrl, MKTME_KEYID_CLEAR_KEY | 0x100, 'CLEAR_KEY carries an activated algorithm');
  const again = add_key(root, 'mktme', 'k5', enc(CPU128), KEY_SPEC_USER_KEYRING);
  t.equal(keyid_of(root, again), 2, 'recovered: the freed KeyID is reused');
  t.equal(keyid_of(root, ids[0]), 1, 'others untouched');
});

t.test('all or nothing across packages', async (t) => {
  const { root, hw } = boot();
  hw.fail = (c) => (c.cpu === 2 && (c.ctrl & 0xff) !== MKTME_KEYID_CLEAR_KEY ? MKTME_INVALID_KEYID : undefined);
  t.equal(add_key(root, 'mktme', 'k', enc(CPU128), KEY_SPEC_USER_KEYRING), -ENOKEY);
  t.same(hw.log, ['mktme: KeyID not valid']);
  t.same(hw.modes(1), [MKTME_KEYID_CLEAR_KEY, undefined], 'package 0 took the key, then was cleared again');
  t.equal(hw.calls.filter((c) => c.cpu === 2).length, 1, 'a parameter error is not retried');
  key_gc();
  t.same(mktme_keyid_info(1), { state: KEYID_AVAILABLE, refs: 0, serial: 0 }, 'KeyID 1 back in the pool');

  hw.fail = null;
  const k = add_key(root, 'mktme', 'k', enc(CPU128), KEY_SPEC_USER_KEYRING);
  t.equal(keyid_of(root, k), 1);
  t.same(hw.modes(1), [MKTME_KEYID_SET_KEY_RANDOM, MKTME_KEYID_SET_KEY_RANDOM]);
});

t.test('DEVICE_BUSY and ENTROPY_ERROR are retried up to 10 times', async (t) => {
  const { root, hw } = boot();
  let busy = 2;
  hw.fail = (c) => (c.cpu === 2 && busy-- > 0 ? MKTME_DEVICE_BUSY : undefined);
  const k = add_key(root, 'mktme', 'k', enc(CPU128), KEY_SPEC_USER_KEYRING);
  t.ok(k > 0, 'succeeds on the third try');
  t.same(hw.calls.map((c) => c.cpu), [0, 2, 2, 2], 'only the busy package is retried');
  t.same(hw.log, [], 'retried errors are not logged');

  const b = boot();
  b.hw.fail = (c) => (c.cpu === 2 && (c.ctrl & 0xff) !== MKTME_KEYID_CLEAR_KEY ? MKTME_DEVICE_BUSY : undefined);
  t.equal(add_key(b.root, 'mktme', 'k', enc(CPU128), KEY_SPEC_USER_KEYRING), -ENOKEY);
  t.equal(b.hw.calls.filter((c) => c.cpu === 2 && c.ctrl === 0x101).length, 10, 'ten tries');
  t.same(b.hw.log, ['mktme: Failure to access key table']);
  t.same(b.hw.modes(1), [MKTME_KEYID_CLEAR_KEY, undefined], 'rolled back');

  const e = boot();
  e.hw.fail = (c) => ((c.ctrl & 0xff) === MKTME_KEYID_SET_KEY_RANDOM ? MKTME_ENTROPY_ERROR : undefined);
  t.equal(add_key(e.root, 'mktme', 'k', enc(CPU128), KEY_SPEC_USER_KEYRING), -ENOKEY);
  t.same(e.hw.log, ['mktme: Insufficient entropy']);
  t.equal(e.hw.calls.length, 20);
});

t.test('revoke while pages hold references keeps the KeyID', async (t) => {
  const { root, hw } = boot();
  const k = add_key(root, 'mktme', 'k', enc(CPU128), KEY_SPEC_USER_KEYRING);
  t.equal(keyid_of(root, k), 1);
  t.equal(mktme_keyid_get(1, 1), 0, 'a VMA');
  t.equal(mktme_keyid_get(1, 2), 0, 'two pages');
  t.same(mktme_keyid_info(1), { state: KEYID_ASSIGNED, refs: 4, serial: k });

  t.equal(keyctl(root, KEYCTL_REVOKE, k), 0);
  t.same(mktme_keyid_info(1), { state: KEYID_REF_KILLED, refs: 3, serial: 0 }, 'the key\'s own ref is gone');
  t.equal(clears(hw.calls, 1).length, 0, 'no CLEAR_KEY while in use');
  t.equal(keyid_of(root, k), -EKEYREVOKED, 'encrypt_mprotect can no longer use it');

  const k2 = add_key(root, 'mktme', 'k2', enc(CPU128), KEY_SPEC_USER_KEYRING);
  t.equal(keyid_of(root, k2), 2, 'KeyID 1 is not reused while referenced');

  t.equal(mktme_keyid_put(1, 2), 0);
  t.equal(clears(hw.calls, 1).length, 0);
  t.equal(mktme_keyid_get(1, 1), 0, 'fork may still dup a VMA of a revoked key');
  t.equal(mktme_keyid_put(1, 2), 0, 'last references');
  t.same(clears(hw.calls, 1).map((c) => c.cpu), [0, 2], 'cleared on every package');
  t.same(mktme_keyid_info(1), { state: KEYID_AVAILABLE, refs: 0, serial: 0 });
  t.equal(mktme_keyid_put(1, 1), -EINVAL, 'a free KeyID has no references');
  t.equal(mktme_keyid_get(1, 1), -EINVAL);
  const k3 = add_key(root, 'mktme', 'k3', enc(CPU128), KEY_SPEC_USER_KEYRING);
  t.equal(keyid_of(root, k3), 1, 'then reused');
});

t.test('mm references cannot drop the key\'s own reference', async (t) => {
  const { root } = boot();
  add_key(root, 'mktme', 'k', enc(CPU128), KEY_SPEC_USER_KEYRING);
  t.equal(mktme_keyid_put(1, 1), -EINVAL);
  t.equal(mktme_keyid_get(1, 2), 0);
  t.equal(mktme_keyid_put(1, 3), -EINVAL, 'more than taken');
  t.equal(mktme_keyid_put(1, 2), 0);
  t.equal(mktme_keyid_get(0, 1), -EINVAL, 'KeyID 0 is the TME key');
  t.equal(mktme_keyid_get(99, 1), -EINVAL);
});

t.test('invalidate and garbage collection drop the key\'s reference', async (t) => {
  const { root, hw } = boot();
  const k = add_key(root, 'mktme', 'k', enc(CPU128), KEY_SPEC_USER_KEYRING);
  mktme_keyid_get(1, 1);
  t.equal(keyctl(root, KEYCTL_INVALIDATE, k), 0);
  t.same(mktme_keyid_info(1), { state: KEYID_ASSIGNED, refs: 2, serial: k }, 'until the collector runs');
  key_gc();
  t.same(mktme_keyid_info(1), { state: KEYID_REF_KILLED, refs: 1, serial: 0 });
  mktme_keyid_put(1, 1);
  t.equal(clears(hw.calls, 1).length, 2);

  /* a second key with the same name displaces the first; the collector destroys it */
  const a = add_key(root, 'mktme', 'same', enc(CPU128), KEY_SPEC_USER_KEYRING);
  const b = add_key(root, 'mktme', 'same', enc(CPU128), KEY_SPEC_USER_KEYRING);
  t.not(a, b); // a new key, a new (random) serial: "another" is the point
  t.equal(keyid_of(root, b), 2);
  key_gc();
  t.same(mktme_keyid_info(1), { state: KEYID_AVAILABLE, refs: 0, serial: 0 }, 'displaced key\'s KeyID freed');
});

t.test('key material never leaves the programming buffers', async (t) => {
  const { root, hw } = boot();
  const key = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
  const tweak = '0badc0ffee0ddf00d15ea5e5ca1ab1e0';
  const entropy = '5eed5eed5eed5eed5eed5eed5eed5eed';
  const u = add_key(root, 'mktme', 'userkey', enc(`type=user algorithm=aes-xts-128 key=${key} tweak=${tweak}`),
    KEY_SPEC_USER_KEYRING);
  const c = add_key(root, 'mktme', 'cpukey', enc(`type=cpu algorithm=aes-xts-128 entropy=${entropy}`),
    KEY_SPEC_USER_KEYRING);
  t.ok(u > 0 && c > 0);
  t.ok(hw.calls.some((x) => Buffer.from(x.f1_seen).toString('hex').startsWith(key)), 'the hardware got the key');
  t.ok(hw.calls.every((x) => x.f1.every((b) => b === 0) && x.f2.every((b) => b === 0)),
    'every buffer handed to PCONFIG was zeroed afterwards');

  const describe = keyctl_describe_alloc(root, u);
  t.equal(describe, 'mktme;0;0;39010000;userkey', 'no READ or WRITE by default: no read or update method');
  const proc = proc_keys_show(root);
  t.match(proc, / mktme     userkey: 0\n/);
  const all = [String(describe), keyctl_describe_alloc(root, c), proc, ...hw.log].join('\n').toLowerCase();
  for (const secret of [key, tweak, entropy]) {
    t.notOk(all.includes(secret), `no ${secret.slice(0, 6)}... in describe, /proc/keys or the log`);
  }
  t.equal(keyctl(root, KEYCTL_READ, u, null, 0), -EOPNOTSUPP, 'READ on an mktme key');
  t.equal(keyctl(root, KEYCTL_READ, c, new Uint8Array(64), 64), -EOPNOTSUPP);
});

t.test('mktme_storekeys: reprogram a package after a reset', async (t) => {
  const key = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
  const tweak = '0badc0ffee0ddf00d15ea5e5ca1ab1e0';
  const payload = enc(`type=user algorithm=aes-xts-128 key=${key} tweak=${tweak}`);

  const { root, hw } = boot({ mktme: { storekeys: true } });
  add_key(root, 'mktme', 'u', payload, KEY_SPEC_USER_KEYRING);
  add_key(root, 'mktme', 'c', enc(CPU128), KEY_SPEC_USER_KEYRING);
  add_key(root, 'mktme', 'n', enc('type=no-encrypt'), KEY_SPEC_USER_KEYRING);
  hw.tables[1].clear(); // package 1 was reset
  t.equal(mktme_reprogram_all(2), 0);
  t.same(hw.modes(1), [MKTME_KEYID_SET_KEY_DIRECT, MKTME_KEYID_SET_KEY_DIRECT]);
  t.equal(Buffer.from(hw.tables[1].get(1)!.f1.subarray(0, 16)).toString('hex'), key, 'same user key again');
  t.equal(hw.tables[1].get(2)!.ctrl, 0x101, 'CPU key regenerated');
  t.equal(hw.tables[1].get(3)!.ctrl, 0x103);
  t.ok(hw.calls.slice(-3).every((c) => c.cpu === 2), 'only the reset package was touched');

  const plain = boot();
  add_key(plain.root, 'mktme', 'u', payload, KEY_SPEC_USER_KEYRING);
  add_key(plain.root, 'mktme', 'c', enc(CPU128), KEY_SPEC_USER_KEYRING);
  plain.hw.tables[1].clear();
  t.equal(mktme_reprogram_all(2), -ENOKEY, 'user key not kept without mktme_storekeys');
  t.same(plain.hw.log, ['mktme: KeyID 1: key not stored, cannot reprogram']);
  t.same(plain.hw.modes(2), [MKTME_KEYID_SET_KEY_RANDOM, MKTME_KEYID_SET_KEY_RANDOM], 'the CPU key still is');
});
