/**
 * keyutils' output formats for the `keyctl` command (keyctl.c in keyutils): the
 * permission strings, the `show` tree, `describe`, `list` and `read` layouts, and the
 * key-ID syntax (`@s`, `%user:name`, numbers). Pure functions of what the kernel
 * returned, so they are tested without booting anything.
 */
import type { key_description, key_tree_node } from '../../kernel/keys/index.js';

const LETTERS = 'alswrv';

/** calc_perms(): the rights the caller actually has, as `--alswrv`. */
export function calcPerms(perm: number, uid: number, gid: number, myUid: number, myGid: number): string {
  let perms = (perm >>> 24) & 0x3f;
  if (uid === myUid) perms |= (perm >>> 16) & 0x3f;
  else if (gid !== -1 && gid === myGid) perms |= (perm >>> 8) & 0x3f;
  else perms |= perm & 0x3f;
  return '--' + bits6(perms);
}

function bits6(p: number): string {
  let s = '';
  for (let i = 0; i < 6; i++) s += p & (0x20 >> i) ? LETTERS[i] : '-';
  return s;
}

/** `describe`: `%9d: <24 perm letters> %5d %5d type: desc`. */
export function formatDescribe(serial: number, d: key_description): string {
  const perm = bits6((d.perm >>> 24) & 0x3f) + bits6((d.perm >>> 16) & 0x3f) +
    bits6((d.perm >>> 8) & 0x3f) + bits6(d.perm & 0x3f);
  return `${pad(serial, 9)}: ${perm} ${pad(d.uid, 5)} ${pad(d.gid, 5)} ${d.type}: ${d.description}\n`;
}

/** One line of `list`. */
export function formatListLine(serial: number, d: key_description, myUid: number, myGid: number): string {
  return `${pad(serial, 9)}: ${calcPerms(d.perm, d.uid, d.gid, myUid, myGid)} ${pad(d.uid, 5)} ${pad(d.gid, 5)} ${d.type}: ${d.description}\n`;
}

/** `read`: "N bytes of data in key:" then hex in groups of 4 bytes, 32 bytes a line. */
export function formatRead(data: Uint8Array): string {
  if (data.length === 0) return 'No data in key\n';
  let out = `${data.length} bytes of data in key:\n`;
  for (let i = 0; i < data.length; i++) {
    if (i > 0) out += i % 32 === 0 ? '\n' : i % 4 === 0 ? ' ' : '';
    out += data[i].toString(16).padStart(2, '0');
  }
  return out + '\n';
}

/** `print`: the payload as text when printable, else `:hex:...`. */
export function formatPrint(data: Uint8Array): string {
  const printable = data.every((b) => b >= 0x20 && b < 0x7f);
  if (printable) return new TextDecoder().decode(data) + '\n';
  return ':hex:' + Array.from(data, (b) => b.toString(16).padStart(2, '0')).join('') + '\n';
}

/** dump_key_tree(): the `show` output for a resolved tree. */
export function formatShow(title: string, root: key_tree_node, myUid: number, myGid: number,
  hex: boolean, strerror: (e: number) => string): string {
  let out = `${title}\n`;
  const indent: string[] = [];
  const walk = (n: key_tree_node, depth: number, more: boolean): void => {
    if (n.error || !n.info) {
      out += `${n.serial}: key inaccessible (${strerror(n.error)})\n`;
      return;
    }
    const id = hex ? '0x' + (n.serial >>> 0).toString(16).padStart(8, '0') : pad(n.serial, 10);
    out += `${id} ${calcPerms(n.info.perm, n.info.uid, n.info.gid, myUid, myGid)}  ${pad(n.info.uid, 5)} ${pad(n.info.gid, 5)}  ` +
      `${indent.slice(0, depth).join('')}${depth > 0 ? '\\_ ' : ''}${n.info.type}: ${n.info.description}\n`;
    const kids = n.children ?? [];
    kids.forEach((k, i) => {
      // keyutils' indentation: one space at the top level, four below; '|' while more siblings follow.
      const rdepth = depth === 0 ? 1 : depth + 4;
      const seg = depth === 0 ? [' '] : [' ', ' ', ' ', ' '];
      indent.length = depth;
      indent.push(...seg);
      if (more) indent[depth] = '|';
      walk(k, rdepth, i < kids.length - 1);
    });
  };
  walk(root, 0, false);
  return out;
}

function pad(n: number, w: number): string { return String(n).padStart(w); }

export type KeyIdSpec =
  | { kind: 'id'; id: number }
  | { kind: 'name'; type: string; desc: string }
  | { kind: 'error'; message: string; status: number };

const SPECIAL: Record<string, number> = { '@t': -1, '@p': -2, '@s': -3, '@u': -4, '@us': -5, '@g': -6, '@a': -7 };

/** get_key_id(): `@s`-style names, `%type:desc` (`%:name` for a keyring), or a number. */
export function parseKeyId(arg: string): KeyIdSpec {
  if (arg.startsWith('@')) {
    const id = SPECIAL[arg];
    return id !== undefined ? { kind: 'id', id } : { kind: 'error', message: `Unknown special key: '${arg}'`, status: 2 };
  }
  if (arg.startsWith('%')) {
    const rest = arg.slice(1);
    const bad: KeyIdSpec = { kind: 'error', message: 'Incorrect key-by-name spec', status: 2 };
    if (!rest) return bad;
    const colon = rest.indexOf(':');
    if (colon < 0) return bad;
    const type = colon === 0 ? 'keyring' : rest.slice(0, colon);
    const desc = rest.slice(colon + 1);
    return desc ? { kind: 'name', type, desc } : bad;
  }
  // strtoul(arg, &end, 0): decimal, 0x hex or 0 octal; keyutils then casts to int32.
  const m = /^(0x[0-9a-f]+|0[0-7]*|-?[1-9][0-9]*)$/i.exec(arg);
  if (!m) return { kind: 'error', message: `Unparsable key: '${arg}'`, status: 2 };
  const v = arg.startsWith('0x') || arg.startsWith('0X') ? parseInt(arg, 16)
    : arg.length > 1 && arg.startsWith('0') ? parseInt(arg, 8) : parseInt(arg, 10);
  return { kind: 'id', id: v | 0 };
}
