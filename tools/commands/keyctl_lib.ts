/**
 * What keyutils' keyctl.c and libkeyutils give every keyctl command: its exits
 * (format(), error(), `Unparsable ...`), get_key_id(), strtoul-style numbers, hex2bin()
 * for `-x` payloads, and recursive_session_key_scan() (purge, reap, unlink).
 */
import {
  KEY_SPEC_SESSION_KEYRING, key_show_tree, keyctl_describe_alloc, keyctl_get_keyring_ID,
  keyctl_list_serials, type key_cred, type key_tree_node,
} from '../../kernel/keys/index.js';
import { strerror } from '../../kernel/errno.js';
import { strtoul, toInt32 } from '../lib/strtoul.js';
import { parseKeyId } from './keyctl_format.js';
import type { ShellIo } from '../registry.js';

/** A keyutils-style exit: optional message on stderr, given status. */
export class KeyctlExit extends Error {
  constructor(message: string, readonly status: number) { super(message); }
}

/** format(): raised on a wrong argument count, printed by the entry point. */
export class FormatExit extends Error {}

export function format(): never { throw new FormatExit(); }

/** error(): perror(msg), exit 1. */
export function error(call: string, err: number): never {
  throw new KeyctlExit(`${call}: ${strerror(err)}`, 1);
}

export function check(call: string, ret: number): number {
  if (ret < 0) error(call, ret);
  return ret;
}

export interface Env { c: key_cred; io: ShellIo; stdin: () => Uint8Array }
export type Action = (argv: string[], e: Env) => void;
export interface Entry { name: string; format: string; action: Action | null }

// --- argument helpers (keyctl.c) -------------------------------------------------------------

/** get_key_id(): `@x` names, `%type:desc`, or strtoul(arg, &end, 0) cast to key_serial_t. */
export function get_key_id(c: key_cred, arg: string): number {
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
export function ulong(arg: string, base: number, what: string): bigint {
  const r = strtoul(arg, base);
  if (r.end !== arg.length) throw new KeyctlExit(`Unparsable ${what}: '${arg}'`, 2);
  return r.value;
}

/** hex2bin(): pairs of hex digits, white space skipped; the input buffer is wiped. */
export function hex2bin(data: Uint8Array): Uint8Array {
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
export function hexFlag(argv: string[]): [boolean, string[]] {
  return argv.length > 1 && argv[1] === '-x' ? [true, [argv[0], ...argv.slice(2)]] : [false, argv];
}

export function payload(text: string | Uint8Array, asHex: boolean): Uint8Array {
  const data = typeof text === 'string' ? new TextEncoder().encode(text) : text;
  return asHex && data.length > 0 ? hex2bin(data) : data;
}

export function printKey(e: Env, n: number): void { e.io.out(`${n}\n`); }

// --- recursive_session_key_scan (libkeyutils) ---------------------------------------------------

export type Scanner = (parent: number, key: number, desc: string | null, err: number) => number;

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

export function recursive_session_key_scan(c: key_cred, func: Scanner): number {
  const session = keyctl_get_keyring_ID(c, KEY_SPEC_SESSION_KEYRING, 0);
  return session > 0 ? recursive_key_scan(c, 0, session, func) : 0;
}



/** `session NAME PROG ARGS...`: the words to run once the new session is joined. */
export type ShellHook = (argv: string[]) => void;
