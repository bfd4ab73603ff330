/**
 * keyctl: the key-management tool of keyutils 1.6.3 (keyctl.c), run as the shell's
 * current process through the kernel's add_key / request_key / keyctl system calls.
 * Its command table, argument checks and words: a wrong argument count prints
 * `format()` (`Format:`, every command, the key-ID help) and exits 2; an unknown
 * command prints `Unknown command`, exit 2 (a unique prefix selects a command, as
 * do_command() allows); a failing call prints `CALL: strerror` and exits 1; numbers are
 * read with strtoul() as keyutils reads them.
 *
 * Commands whose kernel operation this tree does not have (dh_compute, pkey_*, move,
 * restrict_keyring, watch*) make the call anyway and report what the kernel says
 * (EOPNOTSUPP, as a kernel built without those options does).
 *
 * Where keyutils reads stdin (padd, pupdate, prequest2, pinstantiate) the payload comes
 * from the shell's standard input: `< FILE` at the end of the line, or a pipe.
 * `session` and `new_session` join the new session keyring in the shell's own process:
 * keyctl runs inside the shell here, so there is no child to exec or parent to hand the
 * keyring to (KEYCTL_SESSION_TO_PARENT), and the shell is the process that ends up in
 * the new session either way.
 */
import * as fs from 'node:fs';
import {
  KEYCTL_DH_COMPUTE, KEYCTL_INSTANTIATE, KEYCTL_MOVE, KEYCTL_NEGATE, KEYCTL_PKEY_DECRYPT,
  KEYCTL_PKEY_ENCRYPT, KEYCTL_PKEY_QUERY, KEYCTL_PKEY_SIGN, KEYCTL_PKEY_VERIFY, KEYCTL_REJECT,
  KEYCTL_RESTRICT_KEYRING, KEYCTL_WATCH_KEY, KEY_SPEC_SESSION_KEYRING,
  add_key, key_gc, key_show_tree, keyctl, keyctl_capabilities, keyctl_chown_key,
  keyctl_describe_alloc, keyctl_get_keyring_ID, keyctl_get_persistent, keyctl_get_security,
  keyctl_invalidate_key, keyctl_join_session_keyring, keyctl_keyring_clear, keyctl_keyring_link,
  keyctl_keyring_search, keyctl_keyring_unlink, keyctl_list_serials, keyctl_parse_describe,
  keyctl_read_alloc, keyctl_revoke_key, keyctl_set_timeout, keyctl_setperm_key,
  keyctl_update_key, request_key, type key_cred, type key_tree_node,
} from '../../kernel/keys/index.js';
import { EACCES, strerror } from '../../kernel/errno.js';
import { find_task_by_vpid, run_as } from '../../kernel/sched.js';
import { CommandError, type Command, type ShellIo } from '../registry.js';
import type { KernelShellContext } from '../context.js';
import { readStdin, writeBytes } from '../lib/io.js';
import { strtoul, toInt32, toUint32 } from '../lib/strtoul.js';
import {
  calcPerms, formatDescribe, formatListLine, formatPrint, formatRead, formatShow, parseKeyId,
} from './keyctl_format.js';

/** keyutils_version_string / keyutils_build_string of the release this tool follows. */
export const KEYCTL_VERSION = 'keyctl from keyutils-1.6.3 (Built 2022-12-18)';

/** A keyutils-style exit: optional message on stderr, given status. */
class KeyctlExit extends Error {
  constructor(message: string, readonly status: number) { super(message); }
}

/** format(): raised on a wrong argument count, printed by the entry point. */
class FormatExit extends Error {}

function format(): never { throw new FormatExit(); }

/** error(): perror(msg), exit 1. */
function error(call: string, err: number): never {
  throw new KeyctlExit(`${call}: ${strerror(err)}`, 1);
}

function check(call: string, ret: number): number {
  if (ret < 0) error(call, ret);
  return ret;
}

interface Env { c: key_cred; io: ShellIo; stdin: () => Uint8Array }
type Action = (argv: string[], e: Env) => void;
interface Entry { name: string; format: string; action: Action | null }

// --- argument helpers (keyctl.c) -------------------------------------------------------------

/** get_key_id(): `@x` names, `%type:desc`, or strtoul(arg, &end, 0) cast to key_serial_t. */
function get_key_id(c: key_cred, arg: string): number {
  if (!arg.startsWith('@') && !arg.startsWith('%')) {
    const r = strtoul(arg, 0);
    if (r.end !== arg.length) throw new KeyctlExit(`Unparsable key: '${arg}'`, 2);
    return toInt32(r.value);
  }
  const s = parseKeyId(arg);
  if (s.kind === 'error') throw new KeyctlExit(s.message, s.status);
  if (s.kind === 'id') return s.id;
  // find_key_by_type_and_desc: the first match in the caller's keyrings.
  for (const ring of [-1, -2, -3, -4, -5]) {
    const found = findIn(key_show_tree(c, ring), s.type, s.desc);
    if (found !== null) return found;
  }
  throw new KeyctlExit(`Can't find '${s.type}:${s.desc}'`, 1);
}

function findIn(n: key_tree_node, type: string, desc: string): number | null {
  if (n.info && n.info.type === type && n.info.description === desc) return n.serial;
  for (const k of n.children ?? []) {
    const f = findIn(k, type, desc);
    if (f !== null) return f;
  }
  return null;
}

/** strtoul(arg, &q, base) with `if (*q) { "Unparsable WHAT: '%s'"; exit(2); }`. */
function ulong(arg: string, base: number, what: string): bigint {
  const r = strtoul(arg, base);
  if (r.end !== arg.length) throw new KeyctlExit(`Unparsable ${what}: '${arg}'`, 2);
  return r.value;
}

/** hex2bin(): pairs of hex digits, white space skipped; the input buffer is wiped. */
function hex2bin(data: Uint8Array): Uint8Array {
  const out: number[] = [];
  const isSpace = (b: number): boolean => b === 0x20 || (b >= 0x09 && b <= 0x0d);
  const hex = (b: number): number => (b >= 0x30 && b <= 0x39 ? b - 0x30 : (b | 0x20) >= 0x61 && (b | 0x20) <= 0x66 ? (b | 0x20) - 0x57 : -1);
  try {
    for (let p = 0; p < data.length;) {
      if (isSpace(data[p])) { p++; continue; }
      if (data.length - p < 2) throw new KeyctlExit('Short hex doublet', 1);
      const h = hex(data[p]), l = hex(data[p + 1]);
      if (h < 0 || l < 0) throw new KeyctlExit('Bad hex doublet', 1);
      out.push((h << 4) | l);
      p += 2;
    }
    return Uint8Array.from(out);
  } finally {
    data.fill(0);
    out.fill(0);
  }
}

/** The `-x` flag some commands take first: [as_hex, argv without it]. */
function hexFlag(argv: string[]): [boolean, string[]] {
  return argv.length > 1 && argv[1] === '-x' ? [true, [argv[0], ...argv.slice(2)]] : [false, argv];
}

function payload(text: string | Uint8Array, asHex: boolean): Uint8Array {
  const data = typeof text === 'string' ? new TextEncoder().encode(text) : text;
  return asHex && data.length > 0 ? hex2bin(data) : data;
}

function printKey(e: Env, n: number): void { e.io.out(`${n}\n`); }

/** Bytes as a latin1 string: one char per byte, what write(1, buf, n) would emit. */

// --- recursive_session_key_scan (libkeyutils) ---------------------------------------------------

type Scanner = (parent: number, key: number, desc: string | null, err: number) => number;

/** Depth first: a keyring's contents before the keyring itself; parent 0 for the top. */
function recursive_key_scan(c: key_cred, parent: number, key: number, func: Scanner, depth = 0): number {
  if (depth > 800) return 0;
  let n = 0;
  const desc = keyctl_describe_alloc(c, key);
  if (typeof desc === 'string' && desc.startsWith('keyring;')) {
    const ring = keyctl_list_serials(c, key);
    if (typeof ring !== 'number') for (const k of ring) n += recursive_key_scan(c, key, k, func, depth + 1);
  }
  return n + func(parent, key, typeof desc === 'string' ? desc : null, typeof desc === 'number' ? desc : 0);
}

function recursive_session_key_scan(c: key_cred, func: Scanner): number {
  const session = keyctl_get_keyring_ID(c, KEY_SPEC_SESSION_KEYRING, 0);
  return session > 0 ? recursive_key_scan(c, 0, session, func) : 0;
}

// --- the commands -------------------------------------------------------------------------------

const act: Record<string, Action> = {
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

  clear(a, e) {
    if (a.length !== 2) format();
    check('keyctl_clear', keyctl_keyring_clear(e.c, get_key_id(e.c, a[1])));
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

  id(a, e) {
    if (a.length !== 2) format();
    printKey(e, check('keyctl_get_keyring_ID', keyctl_get_keyring_ID(e.c, get_key_id(e.c, a[1]), 0)));
  },

  instantiate(argv, e) {
    const [, a] = hexFlag(argv);
    if (a.length !== 4) format();
    get_key_id(e.c, a[1]);
    get_key_id(e.c, a[3]);
    error('keyctl_instantiate', keyctl(e.c, KEYCTL_INSTANTIATE));
  },

  invalidate(a, e) {
    if (a.length !== 2) format();
    check('keyctl_invalidate', keyctl_invalidate_key(e.c, get_key_id(e.c, a[1])));
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

  padd(argv, e) {
    const [asHex, a] = hexFlag(argv);
    if (a.length !== 4) format();
    const data = payload(e.stdin(), asHex);
    const dest = get_key_id(e.c, a[3]);
    const ret = add_key(e.c, a[1], a[2], data, dest);
    data.fill(0);
    printKey(e, check('add_key', ret));
  },

  pinstantiate(argv, e) {
    const [, a] = hexFlag(argv);
    if (a.length !== 3) format();
    get_key_id(e.c, a[1]);
    get_key_id(e.c, a[2]);
    e.stdin().fill(0);
    error('keyctl_instantiate', keyctl(e.c, KEYCTL_INSTANTIATE));
  },

  pipe(a, e) {
    if (a.length !== 2) format();
    const data = keyctl_read_alloc(e.c, get_key_id(e.c, a[1]));
    if (typeof data === 'number') error('keyctl_read_alloc', data);
    if (data.length) writeBytes(e.io, data); // the bytes as they are, through a pipe too
    data.fill(0);
  },

  pkey_query(a, e) { pkey(a, e, 3, 'keyctl_pkey_query'); },
  pkey_encrypt(a, e) { pkey(a, e, 4, 'keyctl_pkey_query'); },
  pkey_decrypt(a, e) { pkey(a, e, 4, 'keyctl_pkey_query'); },
  pkey_sign(a, e) { pkey(a, e, 4, 'keyctl_pkey_query'); },
  pkey_verify(a, e) { pkey(a, e, 5, 'keyctl_pkey_verify'); },

  prequest2(a, e) {
    if (a.length !== 3 && a.length !== 4) format();
    const info = new TextDecoder().decode(e.stdin());
    act.request2([a[0], a[1], a[2], info, ...a.slice(3)], e);
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

  restrict_keyring(a, e) {
    if (a.length < 2 || a.length > 4) format();
    get_key_id(e.c, a[1]);
    error('keyctl_restrict_keyring', keyctl(e.c, KEYCTL_RESTRICT_KEYRING));
  },

  revoke(a, e) {
    if (a.length !== 2) format();
    check('keyctl_revoke', keyctl_revoke_key(e.c, get_key_id(e.c, a[1])));
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

  security(a, e) {
    if (a.length !== 2) format();
    const key = get_key_id(e.c, a[1]);
    const len = keyctl_get_security(e.c, key, null);
    if (len < 0) error('keyctl_getsecurity', len);
    const buf = new Uint8Array(len);
    keyctl_get_security(e.c, key, buf);
    e.io.out(`${new TextDecoder().decode(buf.subarray(0, buf.indexOf(0) < 0 ? len : buf.indexOf(0)))}\n`);
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

  setperm(a, e) {
    if (a.length !== 3) format();
    const key = get_key_id(e.c, a[1]);
    const perm = toUint32(ulong(a[2], 0, 'permissions'));
    check('keyctl_setperm', keyctl_setperm_key(e.c, key, perm));
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

  timeout(a, e) {
    if (a.length !== 3) format();
    const key = get_key_id(e.c, a[1]);
    const timeout = toUint32(ulong(a[2], 10, 'timeout'));
    check('keyctl_set_timeout', keyctl_set_timeout(e.c, key, timeout));
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

  update(argv, e) {
    const [asHex, a] = hexFlag(argv);
    if (a.length !== 3) format();
    const data = payload(a[2], asHex);
    const key = get_key_id(e.c, a[1]);
    const ret = keyctl_update_key(e.c, key, data);
    data.fill(0);
    check('keyctl_update', ret);
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

type ShellHook = (argv: string[]) => void;

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
const CAPABILITIES: [string, number, number][] = [
  ['capabilities', 0, 0x01], ['persistent_keyrings', 0, 0x02], ['dh_compute', 0, 0x04],
  ['public_key', 0, 0x08], ['big_key_type', 0, 0x10], ['key_invalidate', 0, 0x20],
  ['restrict_keyring', 0, 0x40], ['move_key', 0, 0x80], ['ns_keyring_name', 1, 0x01],
  ['ns_key_tag', 1, 0x02], ['notify', 1, 0x04],
];

/** keyctl.c commands[], in its order, with its format strings (null action: format only). */
const COMMANDS: Entry[] = ([
  ['--version', ''], ['add', '[-x] <type> <desc> <data> <keyring>'], ['chgrp', '<key> <gid>'],
  ['chown', '<key> <uid>'], ['clear', '<keyring>'], ['describe', '<keyring>'],
  ['dh_compute', '<private> <prime> <base>'],
  ['dh_compute_kdf', '<private> <prime> <base> <len> <hash_name>'],
  ['dh_compute_kdf_oi', '[-x] <private> <prime> <base> <len> <hash_name>'],
  ['get_persistent', '<keyring> [<uid>]'], ['id', '<key>'],
  ['instantiate', '[-x] <key> <data> <keyring>'], ['invalidate', '<key>'],
  ['link', '<key> <keyring>'], ['list', '<keyring>'],
  ['move', '[-f] <key> <from_keyring> <to_keyring>'], ['negate', '<key> <timeout> <keyring>'],
  ['new_session', '[<name>]'], ['newring', '<name> <keyring>'],
  ['padd', '[-x] <type> <desc> <keyring>'], ['pinstantiate', '[-x] <key> <keyring>'],
  ['pipe', '<key>'], ['pkey_query', '<key> <pass> [k=v]*'],
  ['pkey_encrypt', '<key> <pass> <datafile> [k=v]*'],
  ['pkey_decrypt', '<key> <pass> <datafile> [k=v]*'],
  ['pkey_sign', '<key> <pass> <datafile> [k=v]*'],
  ['pkey_verify', '<key> <pass> <datafile> <sigfile> [k=v]*'],
  ['prequest2', '<type> <desc> [<dest_keyring>]'], ['print', '<key>'],
  ['pupdate', '[-x] <key>'], ['purge', '<type>'], ['purge', '[-p] [-i] <type> <desc>', false],
  ['purge', '-s <type> <desc>', false], ['rdescribe', '<keyring> [sep]'], ['read', '<key>'],
  ['reap', '[-v]'], ['reject', '<key> <timeout> <error> <keyring>'],
  ['request', '<type> <desc> [<dest_keyring>]'],
  ['request2', '<type> <desc> <info> [<dest_keyring>]'],
  ['restrict_keyring', '<keyring> [<type> [<restriction>]]'], ['revoke', '<key>'],
  ['rlist', '<keyring>'], ['search', '<keyring> <type> <desc> [<dest_keyring>]'],
  ['security', '<key>'], ['session', ''], ['session', '- [<prog> <arg1> <arg2> ...]', false],
  ['session', '<name> [<prog> <arg1> <arg2> ...]', false], ['setperm', '<key> <mask>'],
  ['show', '[-x] [<keyring>]'], ['supports', '[<cap> | --raw]'], ['timeout', '<key> <timeout>'],
  ['unlink', '<key> [<keyring>]'], ['update', '[-x] <key> <data>'], ['watch', '[-f<filters>] <key>'],
  ['watch_add', '<fd> <key>'], ['watch_rm', '<fd> <key>'],
  ['watch_session', '[-f<filters>] [-n <name>] <notifylog> <gclog> <fd> <prog> [<arg1> <arg2> ...]'],
  ['watch_sync', '<fd>'], ['--test', '...'],
] as [string, string, boolean?][]).map(([name, fmt, has]) => ({ name, format: fmt, action: has === false ? null : act[name] }));

/** format()'s text. */
export const KEYCTL_FORMAT = 'Format:\n' +
  COMMANDS.map((c) => `  keyctl ${c.name} ${c.format}\n`).join('') +
  '\nKey/keyring ID:\n' +
  '  <nnn>   numeric keyring ID\n' +
  '  @t      thread keyring\n' +
  '  @p      process keyring\n' +
  '  @s      session keyring\n' +
  '  @u      user keyring\n' +
  '  @us     user default session keyring\n' +
  '  @g      group keyring\n' +
  '  @a      assumed request_key authorisation key\n' +
  '\n' +
  '<type> can be "user" for a user-defined keyring\n' +
  'If you do this, prefix the description with "<subtype>:"\n';

/** do_command(): an exact name, or the only command the word is a prefix of. */
function lookup(word: string): Entry | 'ambiguous' | null {
  let best: Entry | null = null;
  for (const cmd of COMMANDS) {
    if (!cmd.action || !cmd.name.startsWith(word)) continue;
    if (cmd.name === word) return cmd;
    if (best) return 'ambiguous';
    best = cmd;
  }
  return best;
}

/** The payload on standard input: a trailing `< FILE`, or what the shell offers as stdin. */
function stdinOf(args: string[], io: ShellIo): [string[], () => Uint8Array] {
  if (args.length >= 2 && args[args.length - 2] === '<') {
    const file = args[args.length - 1];
    return [args.slice(0, -2), () => {
      try {
        return new Uint8Array(fs.readFileSync(file));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new KeyctlExit(`sh: ${file}: ${code === 'ENOENT' ? 'No such file or directory' : 'cannot open'}`, 1);
      }
    }];
  }
  return [args, () => new Uint8Array(readStdin(io))];
}

export const keyctlCommand: Command<KernelShellContext> = {
  name: 'keyctl',
  usage: 'keyctl <command> [<args>...]',
  summary: 'manage keys and keyrings (keyutils 1.6.3)',
  help: COMMANDS.filter((c) => c.action).map((c) => `  keyctl ${c.name} ${c.format}`).join('\n') +
    '\nKeys: a serial, @t @p @s @u @us, or %TYPE:DESC (%:NAME for a keyring).',
  run(ctx, args, io, sh) {
    const [argv, stdin] = stdinOf(args, io);
    const task = find_task_by_vpid(ctx.pid);
    if (!task) throw new CommandError(`no process ${ctx.pid}`);
    try {
      if (argv.length === 0) format();
      const cmd = lookup(argv[0]);
      if (cmd === 'ambiguous') throw new KeyctlExit('Ambiguous command', 2);
      if (!cmd) throw new KeyctlExit('Unknown command', 2);
      // `session NAME PROG ARGS...`: PROG runs after the join, in the new session.
      let then: string[] | null = null;
      const hook: ShellHook = (words) => { then = words; };
      run_as(task, () => {
        try {
          (cmd.action as (a: string[], e: Env, h?: ShellHook) => void)([cmd.name, ...argv.slice(1)], { c: task.cred, io, stdin }, hook);
        } finally {
          key_gc();
        }
      });
      if (then === null) return 0;
      const words: string[] = then;
      const prog = sh.registry.get(words[0]);
      if (!prog) throw new KeyctlExit(`${words[0]}: No such file or directory`, 1);
      return prog.run(ctx, words.slice(1), io, sh);
    } catch (e) {
      if (e instanceof FormatExit) { io.err(KEYCTL_FORMAT); return 2; }
      if (e instanceof KeyctlExit) { if (e.message) io.err(`${e.message}\n`); return e.status; }
      throw e;
    }
  },
};

export { calcPerms };
