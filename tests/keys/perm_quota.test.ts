/**
 * Permissions (owner/group/other/possessor bytes, SETPERM, CHOWN) and per-user quotas.
 */
import t from 'tap';
import {
  EACCES, EDQUOT, EINVAL,
  KEYCTL_CHOWN, KEYCTL_DESCRIBE, KEYCTL_READ, KEYCTL_SETPERM,
  KEY_SPEC_SESSION_KEYRING, KEY_SPEC_USER_KEYRING, add_key, keyctl, keyctl_describe_alloc,
  keyctl_get_keyring_ID, keyctl_keyring_link, keyctl_read_alloc, key_init, proc_key_users_show,
  key_cred_alloc, key_gc,
} from '../../kernel/keys/index.js';
import { boot, dec, enc } from './helpers.js';

t.test('SETPERM then access is denied', async (t) => {
  const { alice } = boot();
  const k = add_key(alice, 'user', 'p', enc('data'), KEY_SPEC_USER_KEYRING);
  t.equal(dec(keyctl_read_alloc(alice, k) as Uint8Array), 'data');

  /* possessor: view + search; owner: nothing */
  t.equal(keyctl(alice, KEYCTL_SETPERM, k, 0x09000000), 0);
  t.equal(keyctl_describe_alloc(alice, k), 'user;1000;1000;09000000;p', 'possessed: possessor may view');
  t.equal(dec(keyctl_read_alloc(alice, k) as Uint8Array), 'data', 'possessed keys read without READ (Linux)');
  t.equal(keyctl(alice, KEYCTL_SETPERM, k, 0x3f000000), -EACCES, 'SETATTR is gone');

  /* without SEARCH the key is not possessed, and the empty owner byte applies */
  const k2 = add_key(alice, 'user', 'p2', enc('data'), KEY_SPEC_USER_KEYRING);
  t.equal(keyctl(alice, KEYCTL_SETPERM, k2, 0x01000000), 0);
  t.equal(keyctl(alice, KEYCTL_DESCRIBE, k2, null, 0), -EACCES, 'no VIEW');
  t.equal(keyctl(alice, KEYCTL_READ, k2, null, 0), -EACCES);
  t.equal(keyctl(alice, KEYCTL_SETPERM, k, 0x40000000), -EINVAL, 'bits outside the four bytes');
});

t.test('owner, group and other bytes', async (t) => {
  const { alice, bob } = boot();
  const k = add_key(alice, 'user', 'shared', enc('s'), KEY_SPEC_USER_KEYRING);
  t.equal(keyctl_describe_alloc(bob, k), -EACCES, 'other gets nothing by default');
  t.equal(keyctl(alice, KEYCTL_SETPERM, k, 0x3f010003), 0, 'other: view+read');
  t.equal(dec(keyctl_read_alloc(bob, k) as Uint8Array), 's');
  t.equal(keyctl(alice, KEYCTL_SETPERM, k, 0x3f010200), 0, 'group: read only');
  t.equal(keyctl_read_alloc(bob, k), -EACCES);
  const groupie = key_cred_alloc(1002, 1000);
  t.equal(dec(keyctl_read_alloc(groupie, k) as Uint8Array), 's', 'same gid gets the group byte');
  const member = key_cred_alloc(1003, 50, [1000]);
  t.equal(dec(keyctl_read_alloc(member, k) as Uint8Array), 's', 'supplementary group too');
  t.equal(keyctl(bob, KEYCTL_SETPERM, k, 0x3f3f3f3f), -EACCES, 'only the owner may SETPERM');

  /* root has no override for key permissions, but may chown */
  const root = key_cred_alloc(0, 0);
  t.equal(keyctl_describe_alloc(root, k), -EACCES, 'root is not special for VIEW');
  t.equal(keyctl(alice, KEYCTL_CHOWN, k, 1001, -1), -EACCES, 'giving a key away needs CAP_SYS_ADMIN');
});

t.test('quota: maxkeys for users, more for root', async (t) => {
  const { alice, root } = boot();
  let n = 0;
  let ret = 0;
  for (;;) {
    ret = add_key(alice, 'user', `k${n}`, enc('x'), KEY_SPEC_USER_KEYRING);
    if (ret < 0) break;
    n++;
  }
  t.equal(ret, -EDQUOT);
  t.equal(n, 198, '200 keys including _uid.1000 and _uid_ses.1000');
  t.match(proc_key_users_show(), / 1000: +200 200\/200 200\/200 /);
  t.ok(add_key(root, 'user', 'rootkey', enc('x'), KEY_SPEC_USER_KEYRING) > 0, 'root is under its own, larger quota');
});

t.test('quota: maxbytes', async (t) => {
  const { bob } = boot();
  t.ok(add_key(bob, 'user', 'big', new Uint8Array(19000), KEY_SPEC_USER_KEYRING) > 0);
  t.equal(add_key(bob, 'user', 'more', new Uint8Array(1000), KEY_SPEC_USER_KEYRING), -EDQUOT);
  t.match(proc_key_users_show(), / 1001: +4 4\/3 /, 'the failed key is uninstantiated until key_gc()');
  key_gc();
  t.match(proc_key_users_show(), / 1001: +3 3\/3 3\/200 19036\/20000\n/, 'desc+1, payload and 4 bytes per link');
});

t.test('quota limits are boot parameters', async (t) => {
  key_init({ now: () => 0, serial_seed: 1, maxkeys: 3 });
  const u = key_cred_alloc(5, 5);
  t.ok(add_key(u, 'user', 'a', enc('1'), KEY_SPEC_USER_KEYRING) > 0);
  t.equal(add_key(u, 'user', 'b', enc('1'), KEY_SPEC_USER_KEYRING), -EDQUOT);
});

t.test('chown moves the quota', async (t) => {
  const { alice, root } = boot();
  const k = add_key(root, 'user', 'gift', enc('12345'), KEY_SPEC_SESSION_KEYRING);
  t.equal(keyctl(root, KEYCTL_SETPERM, k, 0x3f3f0000), 0);
  t.equal(keyctl(root, KEYCTL_CHOWN, k, 1000, 1000), 0);
  t.equal(keyctl_describe_alloc(root, k), 'user;1000;1000;3f3f0000;gift');
  t.match(proc_key_users_show(), / 1000: +1 1\/1 1\/200 10\/20000\n/);
  const ring = keyctl_get_keyring_ID(alice, KEY_SPEC_USER_KEYRING, 0);
  t.equal(keyctl_keyring_link(alice, k, ring), 0, 'alice owns it now and may link it');
});
