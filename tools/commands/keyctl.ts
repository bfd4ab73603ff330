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
 * from the shell's standard input (a pipe or `< FILE`).
 * `session` and `new_session` join the new session keyring in the shell's own process:
 * keyctl runs inside the shell here, so there is no child to exec or parent to hand the
 * keyring to (KEYCTL_SESSION_TO_PARENT), and the shell is the process that ends up in
 * the new session either way.
 */
import { key_gc } from '../../kernel/keys/index.js';
import { calcPerms } from './keyctl_format.js';
import {
  FormatExit, KeyctlExit, format, type Action, type Entry, type Env, type ShellHook,
} from './keyctl_lib.js';
import { find_task_by_vpid, run_as } from '../../kernel/sched.js';
import { CommandError, type Command } from '../registry.js';
import type { KernelShellContext } from '../context.js';
import { readStdin } from '../lib/io.js';
import { KEYCTL_VERSION, keyActions } from './keyctl_keys.js';
import { ringActions } from './keyctl_rings.js';

const act: Record<string, Action> = { ...keyActions, ...ringActions };

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

export const keyctlCommand: Command<KernelShellContext> = {
  name: 'keyctl',
  usage: 'keyctl <command> [<args>...]',
  summary: 'manage keys and keyrings (keyutils 1.6.3)',
  help: COMMANDS.filter((c) => c.action).map((c) => `  keyctl ${c.name} ${c.format}`).join('\n') +
    '\nKeys: a serial, @t @p @s @u @us, or %TYPE:DESC (%:NAME for a keyring).',
  run(ctx, args, io, sh) {
    const argv = args;
    // The payload of padd/pupdate/...: the shell's standard input (a pipe or `< FILE`).
    const stdin = (): Uint8Array => new Uint8Array(readStdin(io));
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
export { KEYCTL_VERSION };
