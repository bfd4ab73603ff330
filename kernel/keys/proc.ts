/**
 * /proc/keys and /proc/key-users (Linux security/keys/proc.c), in Linux's formats:
 *
 *   /proc/keys:      "%08x %c%c%c%c%c%c%c %5d %4s %08x %5d %5d %-9.9s " + describe + "\n"
 *                    serial, flags I R D Q U N i, usage, timeout, perm, uid, gid, type
 *   /proc/key-users: "%5u: %5d %d/%d %d/%d %d/%d\n"
 *                    uid, usage, nkeys/nikeys, qnkeys/maxkeys, qnbytes/maxbytes
 *
 * /proc/keys lists only the keys the reader may view (possession counted).
 */
import { KEY_POS_VIEW } from './uapi.js';
import {
  KEY_FLAG_DEAD, KEY_FLAG_IN_QUOTA, KEY_FLAG_INVALIDATED, KEY_FLAG_REVOKED, KEY_FLAG_USER_CONSTRUCT,
  KEY_IS_UNINSTANTIATED, OVERFLOW_ID, TIME64_MAX, type key, type key_cred,
} from './types.js';
import { key_now, key_quota_limits, key_ref_put, key_state, make_key_ref, test_bit } from './key.js';
import { KEY_NEED_VIEW, key_task_permission } from './permission.js';
import { lookup_possession } from './process_keys.js';
import { IS_ERR } from '../err.js';

const pad = (v: string | number, w: number): string => String(v).padStart(w);
const hex8 = (v: number): string => (v >>> 0).toString(16).padStart(8, '0');
const munged = (id: number): number => (id < 0 ? OVERFLOW_ID : id);

/** The timeout column: perm, expd, or the time left in s/m/h/d/w. */
function key_timeout_str(k: key, now: number): string {
  if (k.expiry === TIME64_MAX) return 'perm';
  if (now >= k.expiry) return 'expd';
  const timo = k.expiry - now;
  if (timo < 60) return `${timo}s`;
  if (timo < 60 * 60) return `${Math.floor(timo / 60)}m`;
  if (timo < 60 * 60 * 24) return `${Math.floor(timo / (60 * 60))}h`;
  if (timo < 60 * 60 * 24 * 7) return `${Math.floor(timo / (60 * 60 * 24))}d`;
  return `${Math.floor(timo / (60 * 60 * 24 * 7))}w`;
}

/** One /proc/keys line, without the permission filter (proc_keys_show). */
export function proc_keys_line(k: key, now: number): string {
  const f = (nr: number, c: string): string => (test_bit(nr, k.flags) ? c : '-');
  const flags = (k.state !== KEY_IS_UNINSTANTIATED ? 'I' : '-') + f(KEY_FLAG_REVOKED, 'R') +
    f(KEY_FLAG_DEAD, 'D') + f(KEY_FLAG_IN_QUOTA, 'Q') + f(KEY_FLAG_USER_CONSTRUCT, 'U') +
    (k.state < 0 ? 'N' : '-') + f(KEY_FLAG_INVALIDATED, 'i');
  const type = k.type.name.slice(0, 9).padEnd(9);
  return `${hex8(k.serial)} ${flags} ${pad(k.usage, 5)} ${pad(key_timeout_str(k, now), 4)} ` +
    `${hex8(k.perm)} ${pad(munged(k.uid), 5)} ${pad(munged(k.gid), 5)} ${type} ` +
    `${k.type.describe ? k.type.describe(k) : ''}\n`;
}

/** The text of /proc/keys as `cred` reads it: viewable keys, by serial. */
export function proc_keys_show(cred: key_cred): string {
  const now = key_now();
  const keys = [...key_state().serial_tree.values()].sort((a, b) => a.serial - b.serial);
  let out = '';
  for (const k of keys) {
    let key_ref = make_key_ref(k, false);
    /* possession only matters if the possessor may view */
    if (k.perm & KEY_POS_VIEW) {
      const r = lookup_possession(cred, k);
      if (!IS_ERR(r)) {
        key_ref_put(r);
        key_ref = make_key_ref(k, true);
      }
    }
    if (key_task_permission(key_ref, cred, KEY_NEED_VIEW) < 0) continue;
    out += proc_keys_line(k, now);
  }
  return out;
}

/** The text of /proc/key-users, by uid (proc_key_users_show). */
export function proc_key_users_show(): string {
  const users = [...key_state().user_tree.values()].sort((a, b) => a.uid - b.uid);
  let out = '';
  for (const u of users) {
    const { maxkeys, maxbytes } = key_quota_limits(u.uid);
    out += `${pad(u.uid, 5)}: ${pad(u.usage, 5)} ${u.nkeys}/${u.nikeys} ` +
      `${u.qnkeys}/${maxkeys} ${u.qnbytes}/${maxbytes}\n`;
  }
  return out;
}
