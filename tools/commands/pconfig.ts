/**
 * pconfig: a kernel debug tool that programs one KeyID's entry in the key table of
 * every package, the way the MKTME key service does (one lead CPU per package, each
 * running mktme_key_program), and prints each package's result:
 *
 *   package 0: 0 (KeyID was successfully programmed)
 *   package 1: 5 (Failure to access key table)
 *
 * CMD: set-key-direct (KEY1 = data key, KEY2 = tweak key, both required),
 *      set-key-random (optional KEY1/KEY2 = entropy mixed into the CPU's keys),
 *      clear-key (back to the TME key), no-encrypt.
 * ALG: aes-xts-128 (16-byte keys) or aes-xts-256 (32-byte keys).
 * Key bytes are never echoed, and every copy is zeroed once programmed.
 * Status 0 when every package returned 0, else 1. Needs CAP_SYS_ADMIN, checked by the
 * kernel (arch/x86/kernel/cpu/pconfig_debug.ts): "pconfig: Operation not permitted".
 */
import { strerror } from '../../kernel/errno.js';
import {
  MKTME_AES_XTS_128, MKTME_AES_XTS_256, MKTME_KEYID_CLEAR_KEY, MKTME_KEYID_NO_ENCRYPT,
  MKTME_KEYID_SET_KEY_DIRECT, MKTME_KEYID_SET_KEY_RANDOM, mktme_error,
  mktme_key_program_alloc, mktme_key_program_wipe,
} from '../../arch/x86/include/asm/intel_pconfig.js';
import { pconfig_debug_key_program } from '../../arch/x86/kernel/cpu/pconfig_debug.js';
import { CommandError, UsageError, type Command } from '../registry.js';
import { as_task } from '../lib/process.js';
import { parseCNumber, type KernelShellContext } from '../context.js';

const COMMANDS: Record<string, number> = {
  'set-key-direct': MKTME_KEYID_SET_KEY_DIRECT,
  'set-key-random': MKTME_KEYID_SET_KEY_RANDOM,
  'clear-key': MKTME_KEYID_CLEAR_KEY,
  'no-encrypt': MKTME_KEYID_NO_ENCRYPT,
};
const ALGS: Record<string, number> = { 'aes-xts-128': MKTME_AES_XTS_128, 'aes-xts-256': MKTME_AES_XTS_256 };

/** Hex digits into `field` (at most 64 bytes); false if not hex. Never echoes the input. */
function fillKey(s: string, field: Uint8Array): boolean {
  const digits = s.startsWith('0x') || s.startsWith('0X') ? s.slice(2) : s;
  if (digits.length === 0 || digits.length % 2 !== 0 || digits.length > 2 * field.length) return false;
  if (!/^[0-9a-fA-F]*$/.test(digits)) return false;
  for (let i = 0; i < digits.length / 2; i++) field[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return true;
}

/** What a result means: a status code's message or an errno's text. */
function pconfigResultText(r: number): string {
  if (r < 0) return strerror(r);
  return mktme_error[r]?.msg ?? 'unknown status';
}

export const pconfigCommand: Command<KernelShellContext> = {
  name: 'pconfig',
  usage: 'pconfig KEYID CMD ALG [KEY1 KEY2]',
  summary: 'program a KeyID on every package (PCONFIG MKTME_KEY_PROGRAM)',
  help: 'CMD is set-key-direct, set-key-random, clear-key or no-encrypt; ALG is aes-xts-128\n' +
    'or aes-xts-256; KEY1 and KEY2 are hex (data and tweak key, or entropy), up to 64 bytes.',
  run(ctx, args, io) {
    if (args.length !== 3 && args.length !== 5) throw new UsageError('expected KEYID CMD ALG [KEY1 KEY2]');
    const [keyidArg, cmdArg, algArg] = args;
    const keyid = parseCNumber(keyidArg, 0xffffn);
    if (keyid === null) throw new UsageError(`KEYID must be a number in 0..65535, not '${keyidArg}'`);
    const cmd = COMMANDS[cmdArg];
    if (cmd === undefined) throw new UsageError(`CMD must be one of ${Object.keys(COMMANDS).join(', ')}`);
    const alg = ALGS[algArg];
    if (alg === undefined) throw new UsageError('ALG must be aes-xts-128 or aes-xts-256');
    if (cmd === MKTME_KEYID_SET_KEY_DIRECT && args.length !== 5) throw new UsageError('set-key-direct needs KEY1 and KEY2');

    const kprog = mktme_key_program_alloc(Number(keyid), cmd | alg);
    try {
      if (args.length === 5) {
        if (!fillKey(args[3], kprog.key_field_1)) throw new UsageError('KEY1 must be hex bytes, at most 64');
        if (!fillKey(args[4], kprog.key_field_2)) throw new UsageError('KEY2 must be hex bytes, at most 64');
      }
      const results = as_task(ctx, () => pconfig_debug_key_program(kprog));
      if (typeof results === 'number') throw new CommandError(strerror(results));
      let status = 0;
      for (const { pkg, status: r } of results) {
        if (r !== 0) status = 1;
        io.out(`package ${pkg}: ${r} (${pconfigResultText(r)})\n`);
      }
      return status;
    } finally {
      mktme_key_program_wipe(kprog);
    }
  },
};
