/**
 * keyctl: the key-management tool (keyutils' keyctl), run as the shell's current
 * process through the kernel's add_key / request_key / keyctl system calls. Syntax,
 * output and error words follow keyutils: a failing call prints `CALL: strerror`
 * (e.g. `add_key: Required key not available`) and exits 1; a malformed key ID exits 2.
 *
 * `padd` reads the payload from standard input (`< FILE` or a pipe), so the key
 * material never appears on the command line.
 */
import {
  KEY_SPEC_SESSION_KEYRING, add_key, key_gc, key_show_tree, keyctl_describe_alloc,
  keyctl_get_keyring_ID, keyctl_invalidate_key, keyctl_keyring_clear, keyctl_keyring_link,
  keyctl_keyring_search, keyctl_keyring_unlink, keyctl_list_serials, keyctl_parse_describe,
  keyctl_read_alloc, keyctl_revoke_key, keyctl_set_timeout, keyctl_setperm_key, request_key,
  type key_cred, type key_tree_node,
} from '../../kernel/keys/index.js';
import { strerror } from '../../kernel/errno.js';
import { find_task_by_vpid, run_as } from '../../kernel/sched.js';
import { CommandError, UsageError, type Command, type ShellIo } from '../registry.js';
import { readStdin } from '../lib/io.js';
import type { KernelShellContext } from '../context.js';
import {
  calcPerms, formatDescribe, formatListLine, formatPrint, formatRead, formatShow, parseKeyId,
} from './keyctl_format.js';

/** A keyutils-style failure: message on stderr, given exit status. */
class KeyctlExit extends Error {
  constructor(message: string, readonly status: number) { super(message); }
}

function fail(call: string, err: number): never {
  throw new KeyctlExit(`${call}: ${strerror(err)}`, 1);
}

interface Sub { usage: string; min: number; max: number; run(c: key_cred, a: string[], io: ShellIo): void }

/** Resolve a key argument (get_key_id), including `%type:desc` lookups. */
function keyId(c: key_cred, arg: string): number {
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

function check(call: string, ret: number): number {
  if (ret < 0) fail(call, ret);
  return ret;
}

function describeOf(c: key_cred, id: number, call: string): ReturnType<typeof keyctl_parse_describe> & object {
  const text = keyctl_describe_alloc(c, id);
  if (typeof text === 'number') fail(call, text);
  const d = keyctl_parse_describe(text);
  if (!d) throw new KeyctlExit(`Unparsable description obtained for key ${id}`, 3);
  return d;
}

const SUBS: Record<string, Sub> = {
  add: { usage: 'add TYPE DESC DATA KEYRING', min: 4, max: 4, run(c, a, io) {
    const data = new TextEncoder().encode(a[2]);
    const ret = add_key(c, a[0], a[1], data, keyId(c, a[3]));
    data.fill(0);
    io.out(`${check('add_key', ret)}\n`);
  } },
  padd: { usage: 'padd TYPE DESC KEYRING', min: 3, max: 3, run(c, a, io) {
    const data = new Uint8Array(readStdin(io));
    const ret = add_key(c, a[0], a[1], data, keyId(c, a[2]));
    data.fill(0);
    io.out(`${check('add_key', ret)}\n`);
  } },
  newring: { usage: 'newring NAME KEYRING', min: 2, max: 2, run(c, a, io) {
    io.out(`${check('add_key', add_key(c, 'keyring', a[0], null, keyId(c, a[1])))}\n`);
  } },
  request: { usage: 'request TYPE DESC [DEST_KEYRING]', min: 2, max: 3, run(c, a, io) {
    const dest = a.length === 3 ? keyId(c, a[2]) : 0;
    io.out(`${check('request_key', request_key(c, a[0], a[1], null, dest))}\n`);
  } },
  show: { usage: 'show [-x] [KEYRING]', min: 0, max: 2, run(c, a, io) {
    const hex = a[0] === '-x';
    const rest = hex ? a.slice(1) : a;
    if (rest.length > 1) throw new UsageError();
    const ring = rest.length === 1 ? keyId(c, rest[0]) : KEY_SPEC_SESSION_KEYRING;
    const id = keyctl_get_keyring_ID(c, ring, 0);
    if (id < 0) fail('Unable to dump key', id);
    io.out(formatShow(rest.length === 1 ? 'Keyring' : 'Session Keyring', key_show_tree(c, id), c.uid, c.gid, hex, strerror));
  } },
  describe: { usage: 'describe KEY', min: 1, max: 1, run(c, a, io) {
    const id = keyId(c, a[0]);
    io.out(formatDescribe(id, describeOf(c, id, 'keyctl_describe_alloc')));
  } },
  rdescribe: { usage: 'rdescribe KEY [SEP]', min: 1, max: 2, run(c, a, io) {
    if (a.length === 2 && !a[1]) throw new UsageError();
    const text = keyctl_describe_alloc(c, keyId(c, a[0]));
    if (typeof text === 'number') fail('keyctl_describe', text);
    io.out(`${a.length === 2 ? text.split(';').join(a[1][0]) : text}\n`);
  } },
  list: { usage: 'list KEYRING', min: 1, max: 1, run(c, a, io) {
    const serials = keyctl_list_serials(c, keyId(c, a[0]));
    if (typeof serials === 'number') fail('keyctl_read_alloc', serials);
    if (serials.length === 0) { io.out('keyring is empty\n'); return; }
    io.out(serials.length === 1 ? '1 key in keyring:\n' : `${serials.length} keys in keyring:\n`);
    for (const s of serials) {
      const text = keyctl_describe_alloc(c, s);
      if (typeof text === 'number') { io.out(`${String(s).padStart(9)}: key inaccessible (${strerror(text)})\n`); continue; }
      const d = keyctl_parse_describe(text);
      if (d) io.out(formatListLine(s, d, c.uid, c.gid));
    }
  } },
  read: { usage: 'read KEY', min: 1, max: 1, run(c, a, io) {
    const data = keyctl_read_alloc(c, keyId(c, a[0]));
    if (typeof data === 'number') fail('keyctl_read_alloc', data);
    io.out(formatRead(data));
    data.fill(0);
  } },
  print: { usage: 'print KEY', min: 1, max: 1, run(c, a, io) {
    const data = keyctl_read_alloc(c, keyId(c, a[0]));
    if (typeof data === 'number') fail('keyctl_read_alloc', data);
    io.out(formatPrint(data));
    data.fill(0);
  } },
  revoke: { usage: 'revoke KEY', min: 1, max: 1, run(c, a) { check('keyctl_revoke', keyctl_revoke_key(c, keyId(c, a[0]))); } },
  invalidate: { usage: 'invalidate KEY', min: 1, max: 1, run(c, a) {
    check('keyctl_invalidate', keyctl_invalidate_key(c, keyId(c, a[0])));
  } },
  clear: { usage: 'clear KEYRING', min: 1, max: 1, run(c, a) { check('keyctl_clear', keyctl_keyring_clear(c, keyId(c, a[0]))); } },
  link: { usage: 'link KEY KEYRING', min: 2, max: 2, run(c, a) {
    check('keyctl_link', keyctl_keyring_link(c, keyId(c, a[0]), keyId(c, a[1])));
  } },
  unlink: { usage: 'unlink KEY [KEYRING]', min: 1, max: 2, run(c, a, io) {
    const key = keyId(c, a[0]);
    if (a.length === 2) { check('keyctl_unlink', keyctl_keyring_unlink(c, key, keyId(c, a[1]))); return; }
    // Without a keyring: remove every link to KEY in the session tree.
    let n = 0;
    const visit = (node: key_tree_node): void => {
      for (const k of node.children ?? []) {
        if (k.serial === key && keyctl_keyring_unlink(c, key, node.serial) >= 0) n++;
        else visit(k);
      }
    };
    visit(key_show_tree(c, KEY_SPEC_SESSION_KEYRING));
    io.out(`${n} links removed\n`);
  } },
  search: { usage: 'search KEYRING TYPE DESC [DEST_KEYRING]', min: 3, max: 4, run(c, a, io) {
    const dest = a.length === 4 ? keyId(c, a[3]) : 0;
    io.out(`${check('keyctl_search', keyctl_keyring_search(c, keyId(c, a[0]), a[1], a[2], dest))}\n`);
  } },
  timeout: { usage: 'timeout KEY SECONDS', min: 2, max: 2, run(c, a) {
    if (!/^\d+$/.test(a[1])) throw new KeyctlExit(`Unparsable timeout: '${a[1]}'`, 2);
    check('keyctl_set_timeout', keyctl_set_timeout(c, keyId(c, a[0]), Number(a[1])));
  } },
  setperm: { usage: 'setperm KEY MASK', min: 2, max: 2, run(c, a) {
    const m = /^(0x[0-9a-f]+|0[0-7]*|[1-9][0-9]*)$/i.exec(a[1]);
    if (!m) throw new KeyctlExit(`Unparsable permissions: '${a[1]}'`, 2);
    const perm = a[1].toLowerCase().startsWith('0x') ? parseInt(a[1], 16) : a[1].startsWith('0') ? parseInt(a[1] || '0', 8) : Number(a[1]);
    check('keyctl_setperm', keyctl_setperm_key(c, keyId(c, a[0]), perm >>> 0));
  } },
  id: { usage: 'id KEY', min: 1, max: 1, run(c, a, io) {
    io.out(`${check('keyctl_get_keyring_ID', keyctl_get_keyring_ID(c, keyId(c, a[0]), 0))}\n`);
  } },
};

const USAGE = 'keyctl ' + Object.keys(SUBS).join('|') + ' ...';

export const keyctlCommand: Command<KernelShellContext> = {
  name: 'keyctl',
  usage: USAGE,
  summary: 'manage keys and keyrings (keyutils)',
  help: Object.values(SUBS).map((s) => `  keyctl ${s.usage}`).join('\n') +
    '\nKeys: a serial, @t @p @s @u @us, or %TYPE:DESC (%:NAME for a keyring).',
  run(ctx, args, io) {
    const sub = SUBS[args[0] ?? ''];
    if (!sub) throw new UsageError(args.length ? `unknown command '${args[0]}'` : '');
    const rest = args.slice(1);
    if (rest.length < sub.min || rest.length > sub.max) throw new UsageError(`usage: keyctl ${sub.usage}`);
    const task = find_task_by_vpid(ctx.pid);
    if (!task) throw new CommandError(`no process ${ctx.pid}`);
    try {
      run_as(task, () => {
        try {
          sub.run(task.cred, rest, io);
        } finally {
          key_gc();
        }
      });
      return 0;
    } catch (e) {
      if (e instanceof KeyctlExit) { io.err(`${e.message}\n`); return e.status; }
      throw e;
    }
  },
};

export { calcPerms };
