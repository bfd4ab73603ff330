/**
 * /proc/keys and /proc/key-users, byte for byte in Linux's formats.
 */
import t from 'tap';
import {
  KEYCTL_REVOKE, KEYCTL_SET_TIMEOUT, KEY_SPEC_USER_KEYRING, add_key, keyctl,
  keyctl_get_keyring_ID, proc_key_users_show, proc_keys_show,
} from '../../kernel/keys/index.js';
import { boot, enc } from './helpers.js';

const hex = (n: number): string => n.toString(16).padStart(8, '0');

t.test('/proc/keys lines', async (t) => {
  const { alice, root, clock } = boot();
  const k = add_key(alice, 'user', 'g', enc('12345'), KEY_SPEC_USER_KEYRING);
  const u = keyctl_get_keyring_ID(alice, KEY_SPEC_USER_KEYRING, 0);
  const us = keyctl_get_keyring_ID(alice, -5, 0);

  const expected = [
    `${hex(u)} I--Q---     2 perm 1f3f0000  1000 65534 keyring   _uid.1000: 1\n`,
    `${hex(us)} I--Q---     1 perm 1f3f0000  1000 65534 keyring   _uid_ses.1000: 1\n`,
    `${hex(k)} I--Q---     1 perm 3f010000  1000  1000 user      g: 5\n`,
  ].sort().join('');
  t.equal(proc_keys_show(alice), expected, 'alice sees her keys, sorted by serial, not the root-owned register');
  t.match(proc_keys_show(root), / perm 0c030000     0 65534 keyring   \.user_reg: 2\n/,
    'root sees it, gid INVALID_GID munged to 65534 as get_user_register() creates it');
  // Root's list holds keys of its own boot; the point is that none of alice's is among them.
  t.notMatch(proc_keys_show(root), /_uid\.1000/, 'nor does root see alice\'s keys');

  const timeouts: [number, string][] = [
    [10, ' 10s'], [125, '  2m'], [7200, '  2h'], [2 * 86400 + 5, '  2d'], [21 * 86400, '  3w'],
  ];
  for (const [secs, col] of timeouts) {
    keyctl(alice, KEYCTL_SET_TIMEOUT, k, secs);
    t.match(proc_keys_show(alice), `${hex(k)} I--Q---     1 ${col} 3f010000`, `timeout ${secs}s`);
  }
  keyctl(alice, KEYCTL_SET_TIMEOUT, k, 10);
  clock.t += 10;
  t.match(proc_keys_show(alice), `${hex(k)} I--Q---     1 expd 3f010000`);

  const r = add_key(alice, 'user', 'revoked', enc('xy'), KEY_SPEC_USER_KEYRING);
  keyctl(alice, KEYCTL_REVOKE, r);
  t.match(proc_keys_show(alice), `${hex(r)} IR-Q---     1 expd 3f010000  1000  1000 user      revoked: 0\n`,
    'revoked: R flag, user payload dropped');
});

t.test('keyring descriptions and type column', async (t) => {
  const { alice } = boot();
  const ring = add_key(alice, 'keyring', 'a-very-long-keyring-name', null, KEY_SPEC_USER_KEYRING);
  t.match(proc_keys_show(alice), `${hex(ring)} I--Q---     1 perm 3f010000  1000  1000 keyring   a-very-long-keyring-name: empty\n`);
});

t.test('/proc/key-users', async (t) => {
  const { alice } = boot();
  add_key(alice, 'user', 'g', enc('12345'), KEY_SPEC_USER_KEYRING);
  t.equal(proc_key_users_show(),
    '    0:     1 1/1 1/1000000 18/25000000\n' +
    ' 1000:     3 3/3 3/200 39/20000\n');
});
