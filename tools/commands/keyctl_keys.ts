/**
 * keyctl's commands on keys (keyutils 1.6.3 keyctl.c act_keyctl_*): adding, updating
 * and reading payloads (`-x` hex, stdin for padd/pupdate/prequest2), describing,
 * attributes (chown, chgrp, setperm, timeout), revoke/invalidate, request, security.
 */
import {
  add_key, keyctl_chown_key, keyctl_describe_alloc, keyctl_get_keyring_ID, keyctl_get_security,
  keyctl_invalidate_key, keyctl_parse_describe, keyctl_read_alloc, keyctl_revoke_key, keyctl_set_timeout,
  keyctl_setperm_key, keyctl_update_key, request_key,
} from '../../kernel/keys/index.js';
import { toUint32 } from '../lib/strtoul.js';
import { formatDescribe, formatPrint, formatRead } from './keyctl_format.js';
import { writeBytes } from '../lib/io.js';
import {
  KeyctlExit, format, error, check, get_key_id, ulong, hexFlag, payload, printKey, type Action,
} from './keyctl_lib.js';

/** keyutils_version_string / keyutils_build_string of the release this tool follows. */
export const KEYCTL_VERSION = 'keyctl from keyutils-1.6.3 (Built 2022-12-18)';

export const keyActions: Record<string, Action> = {
  '--version'(_a, e) { e.io.out(`${KEYCTL_VERSION}\n`); },

  add(argv, e) {
    const [asHex, a] = hexFlag(argv);
    if (a.length !== 5) format();
    const data = payload(a[3], asHex);
    const dest = get_key_id(e.c, a[4]);
    const ret = add_key(e.c, a[1], a[2], data, dest);
    data.fill(0);
    printKey(e, check('add_key', ret));
  },

  chgrp(a, e) {
    if (a.length !== 3) format();
    const key = get_key_id(e.c, a[1]);
    const gid = toUint32(ulong(a[2], 0, 'gid'));
    check('keyctl_chown', keyctl_chown_key(e.c, key, 0xffffffff, gid));
  },

  chown(a, e) {
    if (a.length !== 3) format();
    const key = get_key_id(e.c, a[1]);
    const uid = toUint32(ulong(a[2], 0, 'uid'));
    check('keyctl_chown', keyctl_chown_key(e.c, key, uid, 0xffffffff));
  },

  describe(a, e) {
    if (a.length !== 2) format();
    const key = get_key_id(e.c, a[1]);
    const text = keyctl_describe_alloc(e.c, key);
    if (typeof text === 'number') error('keyctl_describe_alloc', text);
    const d = keyctl_parse_describe(text);
    if (!d) throw new KeyctlExit(`Unparsable description obtained for key ${key}`, 3);
    e.io.out(formatDescribe(key, d));
  },

  id(a, e) {
    if (a.length !== 2) format();
    printKey(e, check('keyctl_get_keyring_ID', keyctl_get_keyring_ID(e.c, get_key_id(e.c, a[1]), 0)));
  },

  invalidate(a, e) {
    if (a.length !== 2) format();
    check('keyctl_invalidate', keyctl_invalidate_key(e.c, get_key_id(e.c, a[1])));
  },

  padd(argv, e) {
    const [asHex, a] = hexFlag(argv);
    if (a.length !== 4) format();
    const data = payload(e.stdin(), asHex);
    const dest = get_key_id(e.c, a[3]);
    const ret = add_key(e.c, a[1], a[2], data, dest);
    data.fill(0);
    printKey(e, check('add_key', ret));
  },

  pipe(a, e) {
    if (a.length !== 2) format();
    const data = keyctl_read_alloc(e.c, get_key_id(e.c, a[1]));
    if (typeof data === 'number') error('keyctl_read_alloc', data);
    if (data.length) writeBytes(e.io, data); // the bytes as they are, through a pipe too
    data.fill(0);
  },

  prequest2(a, e) {
    if (a.length !== 3 && a.length !== 4) format();
    const info = new TextDecoder().decode(e.stdin());
    keyActions.request2([a[0], a[1], a[2], info, ...a.slice(3)], e);
  },

  print(a, e) {
    if (a.length !== 2) format();
    const data = keyctl_read_alloc(e.c, get_key_id(e.c, a[1]));
    if (typeof data === 'number') error('keyctl_read_alloc', data);
    e.io.out(formatPrint(data));
    data.fill(0);
  },

  pupdate(argv, e) {
    const [asHex, a] = hexFlag(argv);
    if (a.length !== 2) format();
    const key = get_key_id(e.c, a[1]);
    const data = payload(e.stdin(), asHex);
    const ret = keyctl_update_key(e.c, key, data);
    data.fill(0);
    check('keyctl_update', ret);
  },

  rdescribe(a, e) {
    if (a.length !== 2 && a.length !== 3) format();
    if (a.length === 3 && !a[2]) format();
    const text = keyctl_describe_alloc(e.c, get_key_id(e.c, a[1]));
    if (typeof text === 'number') error('keyctl_describe', text);
    e.io.out(`${a.length === 3 ? text.split(';').join(a[2][0]) : text}\n`);
  },

  read(a, e) {
    if (a.length !== 2) format();
    const data = keyctl_read_alloc(e.c, get_key_id(e.c, a[1]));
    if (typeof data === 'number') error('keyctl_read_alloc', data);
    e.io.out(formatRead(data));
    data.fill(0);
  },

  request(a, e) {
    if (a.length !== 3 && a.length !== 4) format();
    const dest = a.length === 4 ? get_key_id(e.c, a[3]) : 0;
    printKey(e, check('request_key', request_key(e.c, a[1], a[2], null, dest)));
  },

  request2(a, e) {
    if (a.length !== 4 && a.length !== 5) format();
    const dest = a.length === 5 ? get_key_id(e.c, a[4]) : 0;
    printKey(e, check('request_key', request_key(e.c, a[1], a[2], a[3], dest)));
  },

  revoke(a, e) {
    if (a.length !== 2) format();
    check('keyctl_revoke', keyctl_revoke_key(e.c, get_key_id(e.c, a[1])));
  },

  security(a, e) {
    if (a.length !== 2) format();
    const key = get_key_id(e.c, a[1]);
    const len = keyctl_get_security(e.c, key, null);
    if (len < 0) error('keyctl_getsecurity', len);
    const buf = new Uint8Array(len);
    keyctl_get_security(e.c, key, buf);
    e.io.out(`${new TextDecoder().decode(buf.subarray(0, buf.indexOf(0) < 0 ? len : buf.indexOf(0)))}\n`);
  },

  setperm(a, e) {
    if (a.length !== 3) format();
    const key = get_key_id(e.c, a[1]);
    const perm = toUint32(ulong(a[2], 0, 'permissions'));
    check('keyctl_setperm', keyctl_setperm_key(e.c, key, perm));
  },

  timeout(a, e) {
    if (a.length !== 3) format();
    const key = get_key_id(e.c, a[1]);
    const timeout = toUint32(ulong(a[2], 10, 'timeout'));
    check('keyctl_set_timeout', keyctl_set_timeout(e.c, key, timeout));
  },

  update(argv, e) {
    const [asHex, a] = hexFlag(argv);
    if (a.length !== 3) format();
    const data = payload(a[2], asHex);
    const key = get_key_id(e.c, a[1]);
    const ret = keyctl_update_key(e.c, key, data);
    data.fill(0);
    check('keyctl_update', ret);
  },
};
