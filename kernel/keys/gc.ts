/**
 * Key garbage collection (Linux security/keys/gc.c), run explicitly: the kernel calls
 * key_gc() after each system call (Linux runs it from a work item), so collection
 * happens at deterministic points on the virtual clock.
 *
 * One pass: unlink dead keys from every keyring (invalidated at once; revoked or expired
 * ones gc_delay seconds later), then destroy every key nobody references any more,
 * giving back its quota and calling its type's destroy(). Repeat until nothing changes,
 * since destroying a keyring drops the links it held.
 */
import { KEY_FLAG_IN_QUOTA, KEY_IS_POSITIVE, KEY_IS_UNINSTANTIATED, type key } from './types.js';
import { key_now, key_state, key_user_put, test_bit } from './key.js';
import { keyring_gc } from './keyring.js';

/** Destroy an unreferenced key (key_gc_unused_keys). */
function key_gc_unused_key(k: key): void {
  key_state().serial_tree.delete(k.serial);
  if (k.state === KEY_IS_POSITIVE) k.type.destroy?.(k);
  const user = k.user;
  if (test_bit(KEY_FLAG_IN_QUOTA, k.flags)) {
    user.qnkeys--;
    user.qnbytes -= k.quotalen;
  }
  user.nkeys--;
  if (k.state !== KEY_IS_UNINSTANTIATED) user.nikeys--;
  key_user_put(user);
}

/** Collect garbage now; returns how many keys were destroyed. */
export function key_gc(): number {
  const tree = key_state().serial_tree;
  const limit = key_now();
  let destroyed = 0;
  for (;;) {
    let changed = false;
    for (const k of tree.values()) {
      if (k.keys && k.usage > 0 && keyring_gc(k, limit)) changed = true;
    }
    for (const k of [...tree.values()]) {
      if (k.usage !== 0) continue;
      key_gc_unused_key(k);
      destroyed++;
      changed = true;
    }
    if (!changed) return destroyed;
  }
}
