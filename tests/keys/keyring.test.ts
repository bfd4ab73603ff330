/**
 * Keys and keyrings through the syscalls: add_key/read/describe, special keyrings,
 * link/unlink, recursive search, clear, request_key, cycle detection, serials.
 */
import t from 'tap';
import {
  EACCES, EDEADLK, EINVAL, ENODEV, ENOENT, ENOKEY, ENOTDIR, EPERM,
  KEYCTL_DESCRIBE, KEYCTL_GET_KEYRING_ID, KEYCTL_LINK, KEYCTL_READ, KEYCTL_SEARCH, KEYCTL_UNLINK,
  KEY_SPEC_GROUP_KEYRING, KEY_SPEC_PROCESS_KEYRING, KEY_SPEC_SESSION_KEYRING, KEY_SPEC_THREAD_KEYRING,
  KEY_SPEC_USER_KEYRING, KEY_SPEC_USER_SESSION_KEYRING, add_key, key_gc, key_show_tree,
  keyctl, keyctl_describe_alloc, keyctl_get_keyring_ID, keyctl_keyring_clear, keyctl_list_serials,
  keyctl_read_alloc, keyctl_setperm_key, request_key,
} from '../../kernel/keys/index.js';
import { boot, dec, enc } from './helpers.js';

t.test('add_key, read and describe a user key', async (t) => {
  const { alice } = boot();
  const id = add_key(alice, 'user', 'greeting', enc('hello'), KEY_SPEC_USER_KEYRING);
  t.ok(id >= 3 && id <= 0x7fffffff, 'serial is a positive 31-bit number >= 3');
  t.equal(dec(keyctl_read_alloc(alice, id) as Uint8Array), 'hello');
  t.equal(keyctl_describe_alloc(alice, id), 'user;1000;1000;3f010000;greeting');

  const buf = new Uint8Array(64);
  const n = keyctl(alice, KEYCTL_DESCRIBE, id, buf, buf.length);
  t.equal(n, 'user;1000;1000;3f010000;greeting'.length + 1, 'length includes the NUL');
  t.equal(buf[n - 1], 0);
  t.equal(keyctl(alice, KEYCTL_DESCRIBE, id, new Uint8Array(4), 4), n, 'too small: length only');
  t.equal(keyctl(alice, KEYCTL_READ, id, new Uint8Array(2), 2), 5, 'READ reports the full length');

  t.equal(add_key(alice, 'user', 'greeting', enc('bye'), KEY_SPEC_USER_KEYRING), id, 'same index updates');
  t.equal(dec(keyctl_read_alloc(alice, id) as Uint8Array), 'bye');
  t.equal(add_key(alice, 'user', 'empty', null, KEY_SPEC_USER_KEYRING), -EINVAL, 'user keys need a payload');
  t.equal(add_key(alice, 'user', 'big', new Uint8Array(32768), KEY_SPEC_USER_KEYRING), -EINVAL);
  t.equal(add_key(alice, 'nosuch', 'x', enc('1'), KEY_SPEC_USER_KEYRING), -ENODEV);
  t.equal(add_key(alice, '.internal', 'x', enc('1'), KEY_SPEC_USER_KEYRING), -EPERM);
  t.equal(add_key(alice, 'keyring', '.dot', null, KEY_SPEC_USER_KEYRING), -EPERM);
  t.equal(add_key(alice, 'user', 'x', enc('1'), id), -ENOTDIR, 'target must be a keyring');
});

t.test('serial numbers are deterministic for a seed', async (t) => {
  const a = boot({ seed: 7 });
  const s1 = [add_key(a.alice, 'user', 'a', enc('1'), KEY_SPEC_USER_KEYRING),
    add_key(a.alice, 'user', 'b', enc('1'), KEY_SPEC_USER_KEYRING)];
  const b = boot({ seed: 7 });
  const s2 = [add_key(b.alice, 'user', 'a', enc('1'), KEY_SPEC_USER_KEYRING),
    add_key(b.alice, 'user', 'b', enc('1'), KEY_SPEC_USER_KEYRING)];
  t.same(s1, s2);
  const c = boot({ seed: 8 });
  // Serials are random draws: that another seed draws others is the whole point.
  t.not(add_key(c.alice, 'user', 'a', enc('1'), KEY_SPEC_USER_KEYRING), s1[0], 'another seed, other serials');
});

t.test('special keyrings', async (t) => {
  const { alice } = boot();
  t.equal(keyctl_get_keyring_ID(alice, KEY_SPEC_THREAD_KEYRING, 0), -ENOKEY, '@t not created without create');
  t.equal(keyctl_get_keyring_ID(alice, KEY_SPEC_PROCESS_KEYRING, 0), -ENOKEY);
  const tid = keyctl(alice, KEYCTL_GET_KEYRING_ID, KEY_SPEC_THREAD_KEYRING, 1);
  const pid = keyctl_get_keyring_ID(alice, KEY_SPEC_PROCESS_KEYRING, 1);
  t.ok(tid > 0 && pid > 0 && tid !== pid);
  t.equal(keyctl_get_keyring_ID(alice, KEY_SPEC_THREAD_KEYRING, 0), tid, 'now it exists');
  t.equal(keyctl_describe_alloc(alice, tid), 'keyring;1000;1000;3f010000;_tid');
  t.equal(keyctl_describe_alloc(alice, pid), 'keyring;1000;1000;3f010000;_pid');

  const u = keyctl_get_keyring_ID(alice, KEY_SPEC_USER_KEYRING, 0);
  const us = keyctl_get_keyring_ID(alice, KEY_SPEC_USER_SESSION_KEYRING, 0);
  t.equal(keyctl_describe_alloc(alice, u), 'keyring;1000;65534;1f3f0000;_uid.1000');
  t.equal(keyctl_describe_alloc(alice, us), 'keyring;1000;65534;1f3f0000;_uid_ses.1000');
  t.same(keyctl_list_serials(alice, us), [u], 'the user-session keyring links the user keyring');

  t.equal(keyctl_get_keyring_ID(alice, KEY_SPEC_SESSION_KEYRING, 0), us, 'no session: @s is @us');
  const ses = keyctl_get_keyring_ID(alice, KEY_SPEC_SESSION_KEYRING, 1);
  t.not(ses, us, 'create on a user-session session gives a private session'); // a new keyring: "another" is the point
  t.equal(keyctl_describe_alloc(alice, ses), 'keyring;1000;1000;3f030000;_ses');
  t.equal(keyctl_get_keyring_ID(alice, KEY_SPEC_SESSION_KEYRING, 1), ses, 'and keeps it');

  t.equal(keyctl_get_keyring_ID(alice, KEY_SPEC_GROUP_KEYRING, 1), -EINVAL);
  t.equal(keyctl_get_keyring_ID(alice, -9, 1), -EINVAL);
  t.equal(keyctl_get_keyring_ID(alice, 0, 1), -EINVAL);
  t.equal(keyctl_get_keyring_ID(alice, 0x12345, 0), -ENOKEY, 'unknown serial');
});

t.test('link, unlink and clear', async (t) => {
  const { alice } = boot();
  const ring = add_key(alice, 'keyring', 'ring', null, KEY_SPEC_USER_KEYRING);
  const k = add_key(alice, 'user', 'k', enc('v'), KEY_SPEC_USER_KEYRING);
  t.equal(keyctl(alice, KEYCTL_LINK, k, ring), 0);
  t.same(keyctl_list_serials(alice, ring), [k]);
  t.equal(keyctl(alice, KEYCTL_LINK, k, ring), 0, 'linking twice is a no-op');
  t.same(keyctl_list_serials(alice, ring), [k]);
  t.equal(keyctl(alice, KEYCTL_LINK, k, k), -ENOTDIR);
  t.equal(keyctl(alice, KEYCTL_UNLINK, k, ring), 0);
  t.equal(keyctl(alice, KEYCTL_UNLINK, k, ring), -ENOENT);

  const k2 = add_key(alice, 'user', 'k2', enc('v'), ring);
  t.same(keyctl_list_serials(alice, ring), [k2]);
  t.equal(keyctl_keyring_clear(alice, ring), 0);
  t.same(keyctl_list_serials(alice, ring), []);
  t.equal(keyctl_keyring_clear(alice, k), -ENOTDIR);
  key_gc();
  t.equal(keyctl_describe_alloc(alice, k2), -ENOKEY, 'cleared and unreferenced: collected');
  t.equal(keyctl_describe_alloc(alice, k), 'user;1000;1000;3f010000;k', 'still linked from @u');

  /* a second key with the same index displaces the first from the keyring */
  const a = add_key(alice, 'keyring', 'dup', null, ring);
  const b = add_key(alice, 'keyring', 'dup', null, ring);
  t.not(a, b); // a new key, a new (random) serial: "another" is the point
  t.same(keyctl_list_serials(alice, ring), [b]);
});

t.test('cycles are refused', async (t) => {
  const { alice } = boot();
  const a = add_key(alice, 'keyring', 'a', null, KEY_SPEC_USER_KEYRING);
  const b = add_key(alice, 'keyring', 'b', null, a);
  const c = add_key(alice, 'keyring', 'c', null, b);
  t.equal(keyctl(alice, KEYCTL_LINK, a, c), -EDEADLK);
  t.equal(keyctl(alice, KEYCTL_LINK, a, a), -EDEADLK);
  t.equal(keyctl(alice, KEYCTL_LINK, c, a), 0, 'a DAG is fine');
});

t.test('search is recursive and honours SEARCH permission', async (t) => {
  const { alice } = boot();
  const top = add_key(alice, 'keyring', 'top', null, KEY_SPEC_USER_KEYRING);
  const mid = add_key(alice, 'keyring', 'mid', null, top);
  const k = add_key(alice, 'user', 'deep', enc('x'), mid);
  t.equal(keyctl(alice, KEYCTL_SEARCH, top, 'user', 'deep', 0), k);
  t.equal(keyctl(alice, KEYCTL_SEARCH, top, 'user', 'nothere', 0), -ENOKEY);
  t.equal(keyctl(alice, KEYCTL_SEARCH, top, 'nosuchtype', 'deep', 0), -ENOKEY);

  const dest = add_key(alice, 'keyring', 'dest', null, KEY_SPEC_USER_KEYRING);
  t.equal(keyctl(alice, KEYCTL_SEARCH, top, 'user', 'deep', dest), k, 'found and linked');
  t.same(keyctl_list_serials(alice, dest), [k]);

  /* take SEARCH away from the nested keyring: possessor and owner view/read/write only */
  t.equal(keyctl_setperm_key(alice, mid, 0x07070000), 0);
  t.equal(keyctl(alice, KEYCTL_SEARCH, top, 'user', 'deep', 0), -ENOKEY, 'unsearchable keyring skipped');
  t.equal(keyctl(alice, KEYCTL_SEARCH, mid, 'user', 'deep', 0), -EACCES, 'top keyring must be searchable');
});

t.test('request_key finds only present keys', async (t) => {
  const { alice } = boot();
  const k = add_key(alice, 'user', 'present', enc('x'), KEY_SPEC_SESSION_KEYRING);
  t.ok(k > 0);
  t.equal(request_key(alice, 'user', 'present', null, 0), k, 'through @s -> @us');
  t.equal(request_key(alice, 'user', 'absent', null, 0), -ENOKEY);
  t.equal(request_key(alice, 'user', 'absent', 'callout', 0), -ENOKEY, 'no upcall in this kernel');
  t.equal(request_key(alice, 'nosuch', 'present', null, 0), -ENOKEY, 'unknown type');
  const ring = add_key(alice, 'keyring', 'dst', null, KEY_SPEC_SESSION_KEYRING);
  t.equal(request_key(alice, 'user', 'present', null, ring), k);
  t.same(keyctl_list_serials(alice, ring), [k], 'linked into the destination');

  /* @s is now a private "_ses" that does not link @u: keys in @u are not possessed,
   * so only the owner's VIEW bit applies (Linux's well-known @u/@s trap) */
  const inu = add_key(alice, 'keyring', 'in-u', null, KEY_SPEC_USER_KEYRING);
  t.equal(request_key(alice, 'user', 'present', null, inu), -EACCES, 'no WRITE without possession');
  t.equal(keyctl_list_serials(alice, inu), -EACCES);
});

t.test('show tree', async (t) => {
  const { alice } = boot();
  const k = add_key(alice, 'user', 'leaf', enc('x'), KEY_SPEC_USER_KEYRING);
  const tree = key_show_tree(alice, KEY_SPEC_USER_SESSION_KEYRING);
  t.equal(tree.info?.description, '_uid_ses.1000');
  t.equal(tree.children?.length, 1);
  const u = tree.children![0];
  t.equal(u.info?.description, '_uid.1000');
  t.same(u.children?.map((c) => [c.serial, c.info?.type, c.info?.description]), [[k, 'user', 'leaf']]);
  t.equal(u.children![0].children, null, 'a user key has no children');
  t.equal(tree.serial, keyctl_get_keyring_ID(alice, KEY_SPEC_USER_SESSION_KEYRING, 0), 'special ID resolved');
});
