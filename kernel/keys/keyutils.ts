/**
 * What libkeyutils builds on top of keyctl(2), for the shell's `keyctl` command:
 * keyctl_describe_alloc(), keyctl_read_alloc(), the parsed DESCRIBE record, and the
 * keyring tree that `keyctl show` / `keyctl list` print. Everything here goes through
 * the syscall-level functions with the caller's credentials, as a user program would,
 * so permissions apply exactly as they would to the real tool. Formatting (perm strings
 * like "--alswrv", indentation) is left to the shell.
 */
import type { key_cred } from './types.js';
import {
  keyctl_describe_key, keyctl_get_keyring_ID, keyctl_read_key,
} from './keyctl.js';
import { IS_ERR } from '../err.js';

/** DESCRIBE as a string (libkeyutils keyctl_describe_alloc), or -errno. */
export function keyctl_describe_alloc(cred: key_cred, id: number): string | number {
  for (;;) {
    const len = keyctl_describe_key(cred, id, null);
    if (len < 0) return len;
    const buf = new Uint8Array(len);
    const again = keyctl_describe_key(cred, id, buf);
    if (again < 0) return again;
    if (again <= len) return new TextDecoder().decode(buf.subarray(0, again - 1));
  }
}

/** READ into a fresh buffer (libkeyutils keyctl_read_alloc), or -errno. */
export function keyctl_read_alloc(cred: key_cred, id: number): Uint8Array | number {
  for (;;) {
    const len = keyctl_read_key(cred, id, null);
    if (len < 0) return len;
    const buf = new Uint8Array(len);
    const again = keyctl_read_key(cred, id, buf);
    if (again < 0) return again;
    if (again <= len) return buf.subarray(0, again);
  }
}

/** A DESCRIBE record split into its fields. */
export interface key_description {
  type: string;
  uid: number;
  gid: number;
  perm: number;
  description: string;
}

/** Split "type;uid;gid;perm;description" (the description may itself contain ';'). */
export function keyctl_parse_describe(text: string): key_description | null {
  const m = /^([^;]*);(-?\d+);(-?\d+);([0-9a-f]{8});(.*)$/s.exec(text);
  if (!m) return null;
  return { type: m[1], uid: Number(m[2]), gid: Number(m[3]), perm: parseInt(m[4], 16), description: m[5] };
}

/** A keyring's linked serials (READ on a keyring), or -errno. */
export function keyctl_list_serials(cred: key_cred, id: number): number[] | number {
  const data = keyctl_read_alloc(cred, id);
  if (IS_ERR(data)) return data;
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out: number[] = [];
  for (let i = 0; i + 4 <= data.length; i += 4) out.push(dv.getInt32(i, true));
  return out;
}

/** One node of `keyctl show`. */
export interface key_tree_node {
  serial: number;
  /** 0, or the -errno that made the key "inaccessible" to DESCRIBE. */
  error: number;
  info: key_description | null;
  /** Linked keys for a readable keyring; null for other keys. */
  children: key_tree_node[] | null;
  /** For a keyring whose READ failed: the -errno; else 0. */
  read_error: number;
}

const MAX_SHOW_DEPTH = 8;

function show_node(cred: key_cred, serial: number, depth: number): key_tree_node {
  const node: key_tree_node = { serial, error: 0, info: null, children: null, read_error: 0 };
  const text = keyctl_describe_alloc(cred, serial);
  if (IS_ERR(text)) {
    node.error = text;
    return node;
  }
  node.info = keyctl_parse_describe(text);
  if (node.info?.type !== 'keyring' || depth >= MAX_SHOW_DEPTH) return node;
  const serials = keyctl_list_serials(cred, serial);
  if (IS_ERR(serials)) {
    node.read_error = serials;
    return node;
  }
  node.children = serials.map((s) => show_node(cred, s, depth + 1));
  return node;
}

/**
 * The tree under a key for `keyctl show` (dump_key_tree). A special ID is resolved to
 * its serial first when it exists (without creating it).
 */
export function key_show_tree(cred: key_cred, id: number): key_tree_node {
  let serial = id;
  if (id < 0) {
    const r = keyctl_get_keyring_ID(cred, id, 0);
    if (r > 0) serial = r;
  }
  return show_node(cred, serial, 0);
}
