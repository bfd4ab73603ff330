/**
 * Key lifetime: revoke, invalidate, expiry on the virtual clock, garbage collection,
 * and the keyrings of forked, exec'd, su'd and exiting tasks.
 */
import t from 'tap';
import {
  CLONE_THREAD, EKEYEXPIRED, EKEYREVOKED, ENOKEY,
  KEYCTL_INVALIDATE, KEYCTL_REVOKE, KEYCTL_SEARCH, KEYCTL_SET_TIMEOUT,
  KEY_SPEC_PROCESS_KEYRING, KEY_SPEC_SESSION_KEYRING, KEY_SPEC_THREAD_KEYRING, KEY_SPEC_USER_KEYRING,
  add_key, key_cred_exec, key_cred_fork, key_cred_release, key_cred_setuid, key_gc, keyctl,
  keyctl_describe_alloc, keyctl_get_keyring_ID, keyctl_list_serials, keyctl_read_alloc,
  keyctl_keyring_unlink, proc_key_users_show, type key_cred,
} from '../../kernel/keys/index.js';
import { boot, enc } from './helpers.js';

t.test('revoke', async (t) => {
  const { alice, clock } = boot();
  const k = add_key(alice, 'user', 'r', enc('secret'), KEY_SPEC_USER_KEYRING);
  t.equal(keyctl(alice, KEYCTL_REVOKE, k), 0);
  t.equal(keyctl_read_alloc(alice, k), -EKEYREVOKED);
  t.equal(keyctl_describe_alloc(alice, k), -EKEYREVOKED);
  t.equal(keyctl(alice, KEYCTL_SEARCH, KEY_SPEC_USER_KEYRING, 'user', 'r', 0), -EKEYREVOKED);
  t.equal(keyctl(alice, KEYCTL_REVOKE, k), -EKEYREVOKED, 'revoking twice');

  key_gc();
  t.same(keyctl_list_serials(alice, KEY_SPEC_USER_KEYRING), [k], 'still linked within gc_delay');
  clock.t += 300;
  key_gc();
  t.same(keyctl_list_serials(alice, KEY_SPEC_USER_KEYRING), [], 'reaped after gc_delay');
  t.equal(keyctl_read_alloc(alice, k), -ENOKEY, 'and destroyed');
});

t.test('revoking a keyring drops its links', async (t) => {
  const { alice } = boot();
  const ring = add_key(alice, 'keyring', 'ring', null, KEY_SPEC_USER_KEYRING);
  const k = add_key(alice, 'user', 'in', enc('x'), ring);
  t.equal(keyctl(alice, KEYCTL_REVOKE, ring), 0);
  key_gc();
  t.equal(keyctl_describe_alloc(alice, k), -ENOKEY, 'the only link went with the revoke');
});

t.test('invalidate', async (t) => {
  const { alice } = boot();
  const k = add_key(alice, 'user', 'inv', enc('x'), KEY_SPEC_USER_KEYRING);
  t.equal(keyctl(alice, KEYCTL_INVALIDATE, k), 0);
  t.equal(keyctl_describe_alloc(alice, k), -ENOKEY, 'an invalidated key is not found');
  key_gc();
  t.same(keyctl_list_serials(alice, KEY_SPEC_USER_KEYRING), [], 'unlinked at once');
  t.match(proc_key_users_show(), / 1000: +\d+ 2\/2 2\/200 /, 'quota given back: only @u and @us remain');
});

t.test('expiry on the virtual clock', async (t) => {
  const { alice, clock } = boot();
  const k = add_key(alice, 'user', 'ttl', enc('x'), KEY_SPEC_USER_KEYRING);
  t.equal(keyctl(alice, KEYCTL_SET_TIMEOUT, k, 10), 0);
  clock.t += 9;
  t.equal(keyctl_describe_alloc(alice, k), 'user;1000;1000;3f010000;ttl', 'alive at 9 s');
  clock.t += 1;
  t.equal(keyctl_read_alloc(alice, k), -EKEYEXPIRED, 'expired at 10 s');
  t.equal(keyctl_describe_alloc(alice, k), -EKEYEXPIRED);
  t.equal(keyctl(alice, KEYCTL_SEARCH, KEY_SPEC_USER_KEYRING, 'user', 'ttl', 0), -EKEYEXPIRED);
  t.equal(keyctl(alice, KEYCTL_SET_TIMEOUT, k, 100), -EKEYEXPIRED, 'an expired key stays expired');

  const k1 = add_key(alice, 'user', 'ttl1', enc('x'), KEY_SPEC_USER_KEYRING);
  t.equal(keyctl(alice, KEYCTL_SET_TIMEOUT, k1, 10), 0);
  t.equal(keyctl(alice, KEYCTL_SET_TIMEOUT, k1, 0), 0, '0 clears the timeout');
  clock.t += 1_000_000;
  t.equal(keyctl_read_alloc(alice, k1) instanceof Uint8Array, true, 'no timeout: never expires');

  const k2 = add_key(alice, 'user', 'ttl2', enc('x'), KEY_SPEC_USER_KEYRING);
  keyctl(alice, KEYCTL_SET_TIMEOUT, k2, 5);
  clock.t += 5 + 299;
  key_gc();
  t.ok(keyctl_list_serials(alice, KEY_SPEC_USER_KEYRING) as number[], 'list ok');
  t.ok((keyctl_list_serials(alice, KEY_SPEC_USER_KEYRING) as number[]).includes(k2), 'kept until expiry + gc_delay');
  clock.t += 1;
  key_gc();
  t.notOk((keyctl_list_serials(alice, KEY_SPEC_USER_KEYRING) as number[]).includes(k2), 'then reaped');
});

t.test('garbage collection of unreferenced keys', async (t) => {
  const { alice } = boot();
  const k = add_key(alice, 'user', 'g', enc('12345'), KEY_SPEC_USER_KEYRING);
  const before = proc_key_users_show();
  t.match(before, / 1000: +3 3\/3 3\/200 \d+\/20000/);
  t.equal(keyctl_keyring_unlink(alice, k, KEY_SPEC_USER_KEYRING), 0);
  t.equal(keyctl_describe_alloc(alice, k), -ENOKEY, 'unreferenced: no longer found, even before gc');
  t.equal(key_gc(), 1, 'one key destroyed');
  t.match(proc_key_users_show(), / 1000: +2 2\/2 2\/200 /);
  t.equal(key_gc(), 0, 'nothing left to do');
});

t.test('task keyrings across fork, exec, su and exit', async (t) => {
  const { alice, root } = boot();
  const tid = keyctl_get_keyring_ID(alice, KEY_SPEC_THREAD_KEYRING, 1);
  const pid = keyctl_get_keyring_ID(alice, KEY_SPEC_PROCESS_KEYRING, 1);
  const ses = keyctl_get_keyring_ID(alice, KEY_SPEC_SESSION_KEYRING, 1);

  const child = key_cred_fork(alice, 0) as key_cred;
  t.equal(keyctl_get_keyring_ID(child, KEY_SPEC_SESSION_KEYRING, 0), ses, 'session shared');
  t.equal(keyctl_get_keyring_ID(child, KEY_SPEC_PROCESS_KEYRING, 0), -ENOKEY, 'no process keyring after fork');
  t.equal(keyctl_get_keyring_ID(child, KEY_SPEC_THREAD_KEYRING, 0), -ENOKEY);

  const thread = key_cred_fork(alice, CLONE_THREAD) as key_cred;
  t.equal(keyctl_get_keyring_ID(thread, KEY_SPEC_PROCESS_KEYRING, 0), pid, 'threads share @p');
  const ttid = keyctl_get_keyring_ID(thread, KEY_SPEC_THREAD_KEYRING, 0);
  t.ok(ttid > 0 && ttid !== tid, 'a new thread gets its own @t');

  key_cred_exec(alice);
  t.equal(keyctl_get_keyring_ID(alice, KEY_SPEC_THREAD_KEYRING, 0), -ENOKEY, 'exec drops @t');
  t.equal(keyctl_get_keyring_ID(alice, KEY_SPEC_PROCESS_KEYRING, 0), -ENOKEY, 'exec drops @p');
  t.equal(keyctl_get_keyring_ID(alice, KEY_SPEC_SESSION_KEYRING, 0), ses, 'exec keeps @s');
  key_gc();
  t.equal(keyctl_describe_alloc(thread, tid), -ENOKEY, 'the old @t was collected');

  const su = key_cred_fork(root, 0) as key_cred;
  t.equal(key_cred_setuid(su, 1000, 1000), 0);
  t.equal(keyctl_describe_alloc(su, keyctl_get_keyring_ID(su, KEY_SPEC_SESSION_KEYRING, 0)),
    'keyring;1000;65534;1f3f0000;_uid_ses.1000', 'su: the new user-session keyring is the session');

  key_cred_release(child);
  key_cred_release(thread);
  key_gc();
  t.equal(keyctl_describe_alloc(alice, pid), -ENOKEY, '@p collected once its last thread exited');
  t.equal(keyctl_describe_alloc(alice, ses), 'keyring;1000;1000;3f030000;_ses', 'session still held by alice');
  key_cred_release(alice);
  key_gc();
  t.equal(keyctl_describe_alloc(su, ses), -ENOKEY, 'last holder gone');
});
