/**
 * Suspend to RAM with memory encryption: refused when the platform key would not survive;
 * otherwise TME memory and (with mktme_storekeys) software-keyed memory come back, while
 * memory under a CPU-generated key is lost, because PCONFIG keys are discarded in S3.
 */
import t from 'tap';
import { runShell } from '../../tools/shell.js';
import { makeConfig } from '../../arch/x86/hw/config.js';
import { Machine } from '../../arch/x86/hw/machine.js';
import { homeNode, lineDecrypt, lineEncrypt, platformKey } from '../hw/helpers.js';
import { ENOKEY } from '../../kernel/errno.js';
import {
  NOTIFY_DONE, NOTIFY_OK, notifier_call_chain, notifier_chain_register, notifier_from_errno, notifier_to_errno,
} from '../../kernel/notifier.js';

/** `read`'s text form: up to the first NUL, '.' for control bytes other than \t and \n. */
const cString = (b: Uint8Array): string => {
  let s = '';
  for (const x of b) { if (x === 0) break; s += x === 9 || x === 10 || (x >= 0x20 && x < 0x7f) ? String.fromCharCode(x) : '.'; }
  return s;
};
const hex = (opts: string, name: string): Uint8Array => Uint8Array.from(Buffer.from(new RegExp(`${name}=([0-9a-f]+)`).exec(opts)![1], 'hex'));

const USER_KEY = 'key=00112233445566778899aabbccddeeff tweak=ffeeddccbbaa99887766554433221100';

const SCRIPT = [
  "keyctl add mktme cpukey 'type=cpu algorithm=aes-xts-128' @u",
  `keyctl add mktme userkey 'type=user algorithm=aes-xts-128 ${USER_KEY}' @u`,
  'mmap 12K',
  "write 0x7effffffd000 'plain TME page'",
  'encrypt_mprotect 0x7effffffe000 4K rw 1397604227',
  "write 0x7effffffe000 'cpu key page'",
  'encrypt_mprotect 0x7efffffff000 4K rw 714764569',
  "write 0x7efffffff000 'user key page'",
  'suspend',
  'read 0x7effffffd000 14',
  'read 0x7effffffe000 12',
  'read 0x7efffffff000 13',
].join('\n');

t.test('S3 with the key saved for standby and stored user keys', async (t) => {
  const r = await runShell(['--bios', 'savekey=on', '--append', 'mktme_storekeys', '-c', SCRIPT]);
  const lines = r.stdout.trimEnd().split('\n');
  t.equal(lines[3], 'plain TME page', 'TME memory: the platform key was restored');
  // The CPU-generated key is not computable outside the CPU: only "not the data" can be said.
  t.not(lines[4], 'cpu key page', 'a CPU-generated key cannot come back: garbage');
  t.equal(lines[5], 'user key page', 'a stored software key is programmed again');
  t.match(r.stderr, /PM: suspend entry \(deep\)[\s\S]*PM: suspend exit/);
  const stamps = [...r.stderr.matchAll(/^\[\s*(\d+\.\d+)\]/gm)].map((m) => Number(m[1]));
  t.same(stamps, [...stamps].sort((a, b) => a - b), 'log timestamps stay monotonic across the TSC reset');
  t.end();
});

t.test('without mktme_storekeys the user key is lost too', async (t) => {
  const r = await runShell(['--bios', 'savekey=on', '-c', `${SCRIPT}\npagemap 0x7efffffff000`]);
  const lines = r.stdout.trimEnd().split('\n');
  t.equal(lines[3], 'plain TME page');
  // KeyID 2 is back in TME mode: the read decrypts the DIMM's E_user(page) under the
  // (restored) platform key of the page's package; `read` shows it as a C string.
  const pa = parseInt(/pfn=(0x[0-9a-f]+)/.exec(lines[6])![1], 16) * 4096;
  const line = new Uint8Array(64);
  line.set(new TextEncoder().encode('user key page'));
  const m = new Machine(makeConfig());
  const garbage = lineDecrypt(platformKey(m, homeNode(m, pa)), pa, lineEncrypt([hex(USER_KEY, 'key'), hex(USER_KEY, 'tweak')], pa, line));
  t.equal(lines[5], cString(garbage.subarray(0, 13)), 'the user key\'s memory: D_platform(E_user(data))');
  t.match(r.stderr, /mktme: KeyID 2: key not stored, cannot reprogram/);
  t.end();
});

t.test('S3 is refused when TME would lose its key', async (t) => {
  const r = await runShell(['-c', "mmap 4K; write 0x7efffffff000 ok; suspend; read 0x7efffffff000 2"]);
  t.match(r.stderr, /suspend: Operation not supported/);
  t.match(r.stderr, /PM: TME key is not saved for standby/);
  t.match(r.stdout, /^ok$/m, 'nothing happened to memory');
  t.end();
});

t.test('PM notifiers: priority order, errno through the chain, registered once', (t) => {
  const seen: string[] = [];
  const chain = { chain: [] };
  const a = { notifier_call: (ev: number) => { seen.push(`a${ev}`); return NOTIFY_OK; } };
  const b = { priority: 10, notifier_call: (ev: number) => { seen.push(`b${ev}`); return NOTIFY_DONE; } };
  const bad = { priority: -1, notifier_call: (ev: number) => { seen.push(`bad${ev}`); return notifier_from_errno(-ENOKEY); } };
  const never = { priority: -2, notifier_call: () => { seen.push('never'); return NOTIFY_OK; } };
  for (const nb of [a, b, bad, never, a]) notifier_chain_register(chain, nb);
  t.equal(notifier_to_errno(notifier_call_chain(chain, 4)), -ENOKEY);
  t.same(seen, ['b4', 'a4', 'bad4'], 'highest priority first, a once, the error stops the chain');
  t.equal(notifier_to_errno(NOTIFY_OK), 0);
  t.equal(notifier_from_errno(0), NOTIFY_OK);
  t.end();
});
