/**
 * The mktme key type's payload: every accepted form and what it programs, every option
 * error, the privilege check, and registration only when MKTME is usable.
 */
import t from 'tap';
import {
  EACCES, EINVAL, ENODEV, KEY_SPEC_USER_KEYRING, add_key, key_gc, mktme_keyid_info,
  KEYID_AVAILABLE, key_cred_alloc, key_init, mktme_keyid_get,
} from '../../kernel/keys/index.js';
import { FakeMktme, boot, enc } from './helpers.js';

const K16 = '00112233445566778899aabbccddeeff';
const T16 = 'ffeeddccbbaa99887766554433221100';
const K32 = K16 + T16;
const E16 = '0f0e0d0c0b0a09080706050403020100';

const bytes = (h: string): number[] => h.match(/../g)!.map((b) => parseInt(b, 16));
const pad64 = (h: string): number[] => [...bytes(h), ...new Array(64 - h.length / 2).fill(0)];

t.test('accepted payloads and the keyid_ctrl they program', async (t) => {
  const cases: [string, number, string | null, string | null][] = [
    ['type=cpu algorithm=aes-xts-128', 0x101, null, null],
    ['type=cpu algorithm=aes-xts-256', 0x401, null, null],
    [`type=cpu algorithm=aes-xts-128 entropy=${E16}`, 0x101, E16, E16],
    [`type=cpu algorithm=aes-xts-256 entropy=${K32}`, 0x401, K32, K32],
    [`type=user algorithm=aes-xts-128 key=${K16} tweak=${T16}`, 0x100, K16, T16],
    [`type=user algorithm=aes-xts-256 key=${K32} tweak=${K32}`, 0x400, K32, K32],
    [`type=user algorithm=aes-xts-128 key=${K16.toUpperCase()} tweak=${T16}`, 0x100, K16, T16],
    ['type=clear', 0x102, null, null],
    ['type=no-encrypt', 0x103, null, null],
    ['type=no-encrypt algorithm=aes-xts-256', 0x103, null, null],
    ['\ttype=cpu  \t algorithm=aes-xts-128 ', 0x101, null, null],
    ['type=cpu algorithm=aes-xts-128\0trailing junk', 0x101, null, null],
  ];
  for (const [payload, ctrl, f1, f2] of cases) {
    const { root, hw } = boot();
    const id = add_key(root, 'mktme', 'k', enc(payload), KEY_SPEC_USER_KEYRING);
    t.ok(id > 0, `accepted: ${JSON.stringify(payload)}`);
    t.same(hw.calls.map((c) => [c.cpu, c.keyid, c.ctrl]), [[0, 1, ctrl], [2, 1, ctrl]],
      'KeyID 1 programmed on each package lead CPU');
    t.same([...hw.calls[0].f1_seen], f1 ? pad64(f1) : new Array(64).fill(0), 'key field 1');
    t.same([...hw.calls[0].f2_seen], f2 ? pad64(f2) : new Array(64).fill(0), 'key field 2');
  }
});

t.test('option errors are -EINVAL and touch no hardware', async (t) => {
  const bad = [
    '',
    'algorithm=aes-xts-128',
    'type=cpu',
    'type=foo algorithm=aes-xts-128',
    'type=cpu algorithm=aes-xts-512',
    'type=cpu algorithm=aes_xts_128',
    'type=cpu type=cpu algorithm=aes-xts-128',
    'type=cpu algorithm=aes-xts-128 algorithm=aes-xts-128',
    'type=cpu algorithm=aes-xts-128 bogus=1',
    'type=cpu algorithm=aes-xts-128 constructor=1',
    'type=cpu algorithm=constructor',
    'type= algorithm=aes-xts-128',
    'type=cpu algorithm=aes-xts-128 entropy=',
    'type',
    '=cpu',
    `type=cpu algorithm=aes-xts-128 key=${K16}`,
    `type=cpu algorithm=aes-xts-128 tweak=${T16}`,
    'type=cpu algorithm=aes-xts-128 entropy=abc',
    `type=cpu algorithm=aes-xts-128 entropy=zz${E16.slice(2)}`,
    `type=cpu algorithm=aes-xts-128 entropy=${K32}`,
    `type=cpu algorithm=aes-xts-256 entropy=${E16}`,
    `type=user algorithm=aes-xts-128 key=${K16}`,
    `type=user algorithm=aes-xts-128 tweak=${T16}`,
    `type=user key=${K16} tweak=${T16}`,
    `type=user algorithm=aes-xts-128 key=${K32} tweak=${K32}`,
    `type=user algorithm=aes-xts-256 key=${K16} tweak=${T16}`,
    `type=user algorithm=aes-xts-128 key=${K16} tweak=${T16} entropy=${E16}`,
    `type=user algorithm=aes-xts-128 key=${K16} key=${K16} tweak=${T16}`,
    `type=user algorithm=aes-xts-128 key=${K16}0 tweak=${T16}`,
    `type=no-encrypt key=${K16}`,
    `type=clear entropy=${E16}`,
    'type=no-encrypt algorithm=rot13',
    'type=cpu algorithm=aes-xts-128\n',
    'type=cpu,algorithm=aes-xts-128',
  ];
  const { root, hw } = boot();
  for (const payload of bad) {
    t.equal(add_key(root, 'mktme', 'k', enc(payload), KEY_SPEC_USER_KEYRING), -EINVAL, JSON.stringify(payload));
  }
  t.equal(hw.calls.length, 0, 'nothing was programmed');
  key_gc();
  t.same(mktme_keyid_info(1), { state: KEYID_AVAILABLE, refs: 0, serial: 0 }, 'no KeyID consumed');
});

t.test('payload size limit', async (t) => {
  const { root } = boot();
  const base = 'type=cpu algorithm=aes-xts-128';
  t.ok(add_key(root, 'mktme', 'a', enc(base.padEnd(1024, ' ')), KEY_SPEC_USER_KEYRING) > 0, '1024 bytes ok');
  t.equal(add_key(root, 'mktme', 'b', enc(base.padEnd(1025, ' ')), KEY_SPEC_USER_KEYRING), -EINVAL, '1025 too big');
});

t.test('algorithms the BIOS did not activate are refused', async (t) => {
  const { root, hw } = boot({ hw: new FakeMktme(4, 0b001) });
  t.equal(add_key(root, 'mktme', 'k', enc('type=cpu algorithm=aes-xts-256'), KEY_SPEC_USER_KEYRING), -EINVAL);
  t.ok(add_key(root, 'mktme', 'k', enc('type=cpu algorithm=aes-xts-128'), KEY_SPEC_USER_KEYRING) > 0);
  const only256 = boot({ hw: new FakeMktme(4, 0b100) });
  t.equal(add_key(only256.root, 'mktme', 'k', enc('type=cpu algorithm=aes-xts-128'), KEY_SPEC_USER_KEYRING), -EINVAL);
  t.ok(add_key(only256.root, 'mktme', 'n', enc('type=no-encrypt'), KEY_SPEC_USER_KEYRING) > 0);
  t.equal(only256.hw.calls[0].ctrl, 0x403, 'NO_ENCRYPT carries the one activated algorithm');
  t.equal(hw.calls.length, 2);
});

t.test('unprivileged users are refused before the payload is looked at', async (t) => {
  const { alice, hw } = boot();
  t.equal(add_key(alice, 'mktme', 'k', enc('type=cpu algorithm=aes-xts-128'), KEY_SPEC_USER_KEYRING), -EACCES);
  t.equal(add_key(alice, 'mktme', 'k', enc('garbage'), KEY_SPEC_USER_KEYRING), -EACCES);
  t.equal(add_key(alice, 'mktme', 'k', null, KEY_SPEC_USER_KEYRING), -EACCES);
  t.equal(hw.calls.length, 0);
});

t.test('no usable KeyIDs: the type is not registered', async (t) => {
  const { root } = boot({ hw: new FakeMktme(0) });
  t.equal(add_key(root, 'mktme', 'k', enc('type=cpu algorithm=aes-xts-128'), KEY_SPEC_USER_KEYRING), -ENODEV);
  const noalg = boot({ hw: new FakeMktme(4, 0) });
  t.equal(add_key(noalg.root, 'mktme', 'k', enc('type=cpu algorithm=aes-xts-128'), KEY_SPEC_USER_KEYRING), -ENODEV);
});

t.test('key_init forgets the previous boot\'s KeyIDs', async (t) => {
  const { root } = boot();
  t.ok(add_key(root, 'mktme', 'k', enc('type=cpu algorithm=aes-xts-128'), KEY_SPEC_USER_KEYRING) > 0);
  t.equal(mktme_keyid_get(1, 1), 0);
  key_init({ now: () => 0 });
  t.equal(mktme_keyid_get(1, 1), -EINVAL, 'no pool until init_mktme');
  t.equal(add_key(key_cred_alloc(0, 0), 'mktme', 'k', enc('type=cpu algorithm=aes-xts-128'),
    KEY_SPEC_USER_KEYRING), -ENODEV, 'nor a type');
});

t.test('kernel entropy is mixed into CPU-generated keys only', async (t) => {
  const { root, hw } = boot({ mktme: { get_random_bytes: (b) => b.fill(0xaa) } });
  add_key(root, 'mktme', 'c', enc(`type=cpu algorithm=aes-xts-128 entropy=${E16}`), KEY_SPEC_USER_KEYRING);
  t.same([...hw.calls[0].f1_seen.subarray(0, 16)], bytes(E16).map((b) => b ^ 0xaa));
  t.same([...hw.calls[0].f1_seen.subarray(16)], new Array(48).fill(0), 'bytes past the key size stay zero');
  add_key(root, 'mktme', 'u', enc(`type=user algorithm=aes-xts-128 key=${K16} tweak=${T16}`), KEY_SPEC_USER_KEYRING);
  t.same([...hw.calls[2].f1_seen.subarray(0, 16)], bytes(K16), 'user keys are programmed as given');
});
