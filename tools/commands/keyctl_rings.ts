/**
 * keyctl's commands on keyrings and sessions (keyutils 1.6.3 keyctl.c act_keyctl_*):
 * list/rlist/show, link/unlink/clear/newring/search, sessions, purge and reap over the
 * session tree, persistent keyrings, supports; and the commands whose kernel operation
 * this tree lacks (DH, pkey, move, restrict_keyring, watch, instantiate/negate/reject),
 * which check their arguments as keyutils does and then report the kernel's error.
 */
import {
  KEYCTL_DH_COMPUTE, KEYCTL_INSTANTIATE, KEYCTL_MOVE, KEYCTL_NEGATE, KEYCTL_PKEY_QUERY, KEYCTL_PKEY_VERIFY,
  KEYCTL_REJECT, KEYCTL_RESTRICT_KEYRING, KEYCTL_WATCH_KEY, KEY_SPEC_SESSION_KEYRING, add_key,
  key_show_tree, keyctl, keyctl_capabilities, keyctl_describe_alloc, keyctl_get_keyring_ID,
  keyctl_get_persistent, keyctl_join_session_keyring, keyctl_keyring_clear, keyctl_keyring_link,
  keyctl_keyring_search, keyctl_keyring_unlink, keyctl_list_serials, keyctl_parse_describe,
} from '../../kernel/keys/index.js';
import { EACCES, strerror } from '../../kernel/errno.js';
import { toUint32 } from '../lib/strtoul.js';
import { formatListLine, formatShow } from './keyctl_format.js';
import {
  KeyctlExit, format, error, check, get_key_id, ulong, hexFlag, printKey, recursive_session_key_scan,
  type Scanner, type Env, type Action, type ShellHook,
} from './keyctl_lib.js';

export const ringActions: Record<string, Action> = {
  clear(a, e) {
    if (a.length !== 2) format();
    check('keyctl_clear', keyctl_keyring_clear(e.c, get_key_id(e.c, a[1])));
  },

  dh_compute(a, e) {
    if (a.length !== 4) format();
    a.slice(1).forEach((k) => get_key_id(e.c, k));
    error('keyctl_dh_compute_alloc', keyctl(e.c, KEYCTL_DH_COMPUTE));
  },
  dh_compute_kdf(a, e) {
    if (a.length !== 6) format();
    a.slice(1, 4).forEach((k) => get_key_id(e.c, k));
    error('keyctl_dh_compute_kdf', keyctl(e.c, KEYCTL_DH_COMPUTE));
  },
  dh_compute_kdf_oi(argv, e) {
    const [, a] = hexFlag(argv);
    if (a.length !== 6) format();
    a.slice(1, 4).forEach((k) => get_key_id(e.c, k));
    error('keyctl_dh_compute_kdf', keyctl(e.c, KEYCTL_DH_COMPUTE));
  },

  get_persistent(a, e) {
    if (a.length !== 2 && a.length !== 3) format();
    const dest = get_key_id(e.c, a[1]);
    const uid = a.length > 2 ? toUint32(ulong(a[2], 0, 'uid')) : 0xffffffff;
    printKey(e, check('keyctl_get_persistent', keyctl_get_persistent(e.c, uid, dest)));
  },

  instantiate(argv, e) {
    const [, a] = hexFlag(argv);
    if (a.length !== 4) format();
    get_key_id(e.c, a[1]);
    get_key_id(e.c, a[3]);
    error('keyctl_instantiate', keyctl(e.c, KEYCTL_INSTANTIATE));
  },

  link(a, e) {
    if (a.length !== 3) format();
    const key = get_key_id(e.c, a[1]);
    const ring = get_key_id(e.c, a[2]);
    check('keyctl_link', keyctl_keyring_link(e.c, key, ring));
  },

  list(a, e) {
    if (a.length !== 2) format();
    const serials = keyctl_list_serials(e.c, get_key_id(e.c, a[1]));
    if (typeof serials === 'number') error('keyctl_read_alloc', serials);
    if (serials.length === 0) { e.io.out('keyring is empty\n'); return; }
    e.io.out(serials.length === 1 ? '1 key in keyring:\n' : `${serials.length} keys in keyring:\n`);
    for (const s of serials) {
      const text = keyctl_describe_alloc(e.c, s);
      if (typeof text === 'number') { e.io.out(`${String(s).padStart(9)}: key inaccessible (${strerror(text)})\n`); continue; }
      const d = keyctl_parse_describe(text);
      if (!d) throw new KeyctlExit(`Unparsable description obtained for key ${s}`, 3);
      e.io.out(formatListLine(s, d, e.c.uid, e.c.gid));
    }
  },

  move(argv, e) {
    const a = argv.length > 4 && argv[1] === '-f' ? [argv[0], ...argv.slice(2)] : argv;
    if (a.length !== 4) format();
    a.slice(1).forEach((k) => get_key_id(e.c, k));
    error('keyctl_move', keyctl(e.c, KEYCTL_MOVE));
  },

  negate(a, e) {
    if (a.length !== 4) format();
    get_key_id(e.c, a[1]);
    ulong(a[2], 10, 'timeout');
    get_key_id(e.c, a[3]);
    error('keyctl_negate', keyctl(e.c, KEYCTL_NEGATE));
  },

  new_session(a, e) {
    if (a.length !== 1 && a.length !== 2) format();
    check('keyctl_join_session_keyring', keyctl_join_session_keyring(e.c, a.length === 2 ? a[1] : null));
    printKey(e, check('keyctl_get_keyring_ID', keyctl_get_keyring_ID(e.c, KEY_SPEC_SESSION_KEYRING, 0)));
  },

  newring(a, e) {
    if (a.length !== 3) format();
    const dest = get_key_id(e.c, a[2]);
    printKey(e, check('add_key', add_key(e.c, 'keyring', a[1], null, dest)));
  },

  pinstantiate(argv, e) {
    const [, a] = hexFlag(argv);
    if (a.length !== 3) format();
    get_key_id(e.c, a[1]);
    get_key_id(e.c, a[2]);
    e.stdin().fill(0);
    error('keyctl_instantiate', keyctl(e.c, KEYCTL_INSTANTIATE));
  },

  pkey_query(a, e) { pkey(a, e, 3, 'keyctl_pkey_query'); },
  pkey_encrypt(a, e) { pkey(a, e, 4, 'keyctl_pkey_query'); },
  pkey_decrypt(a, e) { pkey(a, e, 4, 'keyctl_pkey_query'); },
  pkey_sign(a, e) { pkey(a, e, 4, 'keyctl_pkey_query'); },
  pkey_verify(a, e) { pkey(a, e, 5, 'keyctl_pkey_verify'); },

  purge(argv, e) {
    let a = argv.slice(1);
    let search = false, prefix = false, icase = false;
    while (a.length > 0 && a[0].startsWith('-')) {
      if (a[0][1] === 's') search = true;
      else if (a[0][1] === 'p') prefix = true;
      else if (a[0][1] === 'i') icase = true;
      else format();
      a = a.slice(1);
    }
    if (a.length < 1) format();
    const [type, desc] = a;
    let func: Scanner;
    if (search) {
      if (a.length !== 2 || prefix || icase) format();
      // Purge what the kernel's own comparator matches, keyring by keyring.
      func = (_p, ring, raw) => {
        if (!raw || !raw.startsWith('keyring;')) return 0;
        let n = 0;
        for (;;) {
          const key = keyctl_keyring_search(e.c, ring, type, desc, 0);
          if (key < 0 || keyctl_keyring_unlink(e.c, key, ring) < 0) return n;
          n++;
        }
      };
    } else if (a.length === 1) {
      if (prefix || icase) format();
      func = (parent, key, raw) =>
        parent !== 0 && raw !== null && raw.slice(0, raw.indexOf(';')) === type && raw.includes(';') &&
        keyctl_keyring_unlink(e.c, key, parent) >= 0 ? 1 : 0;
    } else if (a.length === 2) {
      func = (parent, key, raw) => {
        if (parent === 0 || raw === null) return 0;
        const semi = raw.indexOf(';');
        if (semi < 0 || raw.slice(0, semi) !== type) return 0;
        const d = raw.slice(raw.lastIndexOf(';') + 1);
        const want = icase ? desc.toLowerCase() : desc;
        const got = icase ? d.toLowerCase() : d;
        if (prefix ? !got.startsWith(want) : got !== want) return 0;
        e.io.out(`${type} '${d}'\n`);
        return keyctl_keyring_unlink(e.c, key, parent) < 0 ? 0 : 1;
      };
    } else {
      format();
    }
    e.io.out(`purged ${recursive_session_key_scan(e.c, func)} keys\n`);
  },

  reap(argv, e) {
    const verbose = argv.length > 1 && argv[1] === '-v';
    const a = verbose ? [argv[0], ...argv.slice(2)] : argv;
    if (a.length !== 1) format();
    // Unlink what cannot be described for a reason other than permission (revoked,
    // expired, gone).
    const n = recursive_session_key_scan(e.c, (parent, key, raw, err) => {
      if (raw !== null || err === -EACCES) return 0;
      if (verbose) e.io.out(`Reap ${key}`);
      const ret = keyctl_keyring_unlink(e.c, key, parent);
      if (verbose) e.io.out(ret < 0 ? `... failed ${strerror(ret)}\n` : '\n');
      return ret < 0 ? 0 : 1;
    });
    e.io.out(`${n} keys reaped\n`);
  },

  reject(a, e) {
    if (a.length !== 5) format();
    get_key_id(e.c, a[1]);
    ulong(a[2], 10, 'timeout');
    if (!['rejected', 'revoked', 'expired'].includes(a[3])) ulong(a[3], 10, 'error');
    get_key_id(e.c, a[4]);
    error('keyctl_negate', keyctl(e.c, KEYCTL_REJECT));
  },

  restrict_keyring(a, e) {
    if (a.length < 2 || a.length > 4) format();
    get_key_id(e.c, a[1]);
    error('keyctl_restrict_keyring', keyctl(e.c, KEYCTL_RESTRICT_KEYRING));
  },

  rlist(a, e) {
    if (a.length !== 2) format();
    const serials = keyctl_list_serials(e.c, get_key_id(e.c, a[1]));
    if (typeof serials === 'number') error('keyctl_read_alloc', serials);
    e.io.out(`${serials.join(' ')}\n`);
  },

  search(a, e) {
    if (a.length !== 4 && a.length !== 5) format();
    const ring = get_key_id(e.c, a[1]);
    const dest = a.length === 5 ? get_key_id(e.c, a[4]) : 0;
    printKey(e, check('keyctl_search', keyctl_keyring_search(e.c, ring, a[2], a[3], dest)));
  },

  session(argv, e, sh?: ShellHook) {
    let a = argv.slice(1);
    let name: string | null = null;
    if (a.length !== 0) {
      name = a[0] === '-' ? null : a[0];
      a = a.slice(1);
    }
    const ret = check('keyctl_join_session_keyring', keyctl_join_session_keyring(e.c, name));
    e.io.err(`Joined session keyring: ${ret}\n`);
    if (a.length > 0 && sh) sh(a);
  },

  show(argv, e) {
    const hex = argv.length >= 2 && argv[1] === '-x';
    const a = hex ? [argv[0], ...argv.slice(2)] : argv;
    if (a.length > 2) format();
    const ring = a.length === 2 ? get_key_id(e.c, a[1]) : KEY_SPEC_SESSION_KEYRING;
    const title = a.length === 2 ? 'Keyring' : 'Session Keyring';
    // dump_key_tree(): the title is printed before the keyring is resolved.
    const id = keyctl_get_keyring_ID(e.c, ring, 0);
    if (id < 0) { e.io.out(`${title}\n`); error('Unable to dump key', id); }
    e.io.out(formatShow(title, key_show_tree(e.c, id), e.c.uid, e.c.gid, hex, strerror));
  },

  supports(a, e) {
    if (a.length < 1 || a.length > 2) format();
    const caps = new Uint8Array(256);
    const len = keyctl_capabilities(caps);
    if (a.length === 1) {
      for (const [n, i, m] of CAPABILITIES) e.io.out(`have_${n}=${caps[i] & m ? '1' : '0'}\n`);
      return;
    }
    if (a[1] === '--raw') e.io.out(Array.from(caps.subarray(0, len), (b) => b.toString(16).padStart(2, '0')).join('') + '\n');
    const cap = CAPABILITIES.find(([n]) => n === a[1]);
    throw new KeyctlExit('', cap ? (caps[cap[1]] & cap[2] ? 0 : 1) : 3);
  },

  unlink(a, e) {
    if (a.length !== 2 && a.length !== 3) format();
    const key = get_key_id(e.c, a[1]);
    if (a.length === 3) {
      check('keyctl_unlink', keyctl_keyring_unlink(e.c, key, get_key_id(e.c, a[2])));
      return;
    }
    const n = recursive_session_key_scan(e.c, (parent, k) =>
      k === key && parent !== 0 && keyctl_keyring_unlink(e.c, k, parent) >= 0 ? 1 : 0);
    e.io.out(`${n} links removed\n`);
  },

  watch(argv, e) {
    const a = argv.length > 1 && argv[1].startsWith('-f') ? [argv[0], ...argv.slice(2)] : argv;
    if (a.length !== 2) format();
    get_key_id(e.c, a[1]);
    // keyctl opens a watch queue first; this kernel has none (no CONFIG_WATCH_QUEUE).
    throw new KeyctlExit('/dev/watch_queue: No such file or directory', 1);
  },
  watch_add(a, e) { watchFd(a, e); },
  watch_rm(a, e) { watchFd(a, e); },
  watch_session(a) {
    if (a.length < 5) format();
    throw new KeyctlExit('/dev/watch_queue: No such file or directory', 1);
  },
  watch_sync(a) {
    if (a.length !== 2) format();
    throw new KeyctlExit(`${a[1]}: Bad file descriptor`, 1);
  },
  '--test'() { throw new KeyctlExit('', 0); },
};


function pkey(a: string[], e: Env, min: number, call: string): void {
  if (a.length < min) format();
  if (a.slice(min).some((s) => !s.includes('='))) throw new KeyctlExit('Option not in key=val form', 2);
  get_key_id(e.c, a[1]);
  if (a[2] !== '0') throw new KeyctlExit('Password passing is not yet supported', 2);
  error(call, keyctl(e.c, call === 'keyctl_pkey_verify' ? KEYCTL_PKEY_VERIFY : KEYCTL_PKEY_QUERY));
}

function watchFd(a: string[], e: Env): void {
  if (a.length !== 3) format();
  get_key_id(e.c, a[2]);
  error('keyctl_watch_key', keyctl(e.c, KEYCTL_WATCH_KEY));
}

/** keyctl.c capabilities[]: name, byte, mask. */
export const CAPABILITIES: [string, number, number][] = [
  ['capabilities', 0, 0x01], ['persistent_keyrings', 0, 0x02], ['dh_compute', 0, 0x04],
  ['public_key', 0, 0x08], ['big_key_type', 0, 0x10], ['key_invalidate', 0, 0x20],
  ['restrict_keyring', 0, 0x40], ['move_key', 0, 0x80], ['ns_keyring_name', 1, 0x01],
  ['ns_key_tag', 1, 0x02], ['notify', 1, 0x04],
];
