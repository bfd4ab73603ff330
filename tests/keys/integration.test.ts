/**
 * The key service on the booted kernel and through the shell: a type=user key's
 * ciphertext in DRAM is exactly AES-XTS under that key with the line-address tweak, an
 * unprivileged user is refused, the key bytes appear in no shell output, and a KeyID
 * programmed on every package survives revoke while mapped.
 */
import t from 'tap';
import { addrTweak, xtsEncrypt } from '../../arch/x86/hw/crypto/xts.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE, sys_mmap } from '../../mm/mmap.js';
import { sys_encrypt_mprotect } from '../../mm/mprotect.js';
import { follow_pte } from '../../mm/memory.js';
import { pte_pfn } from '../../arch/x86/include/asm/pgtable_types.js';
import { runShell } from '../../tools/shell.js';
import { bootKernel, SMALL } from '../lib/boot.js';
import { add_mktme_key, as, uwrite } from '../lib/task.js';

const KEY = '00112233445566778899aabbccddeeff';
const TWEAK = 'f0e1d2c3b4a5968778695a4b3c2d1e0f';
const hex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g)!.map((b) => parseInt(b, 16)));

t.test('type=user: DRAM holds AES-XTS(key, tweak = line address) of the data', (t) => {
  const rig = bootKernel({ ...SMALL, seed: 3 });
  const init = rig.init;
  const serial = add_mktme_key(init.cred, 'u1', `type=user algorithm=aes-xts-128 key=${KEY} tweak=${TWEAK}`);
  t.ok(serial > 0, `added ${serial}`);
  const va = as(init, () => sys_mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS));
  t.equal(as(init, () => sys_encrypt_mprotect(va, 4096, PROT_READ | PROT_WRITE, serial)), 0);
  const line = new Uint8Array(64).map((_, i) => 0x40 + i);
  t.ok(uwrite(init, va, line).ok);
  const pte = as(init, () => follow_pte(init.mm!, va));
  t.ok(pte, 'mapped');
  const pa = pte_pfn(pte!) * 4096;
  for (const c of rig.machine.cpus) c.wbinvd();
  const dram = rig.machine.probe.read(pa, 64)!;
  t.same(dram, xtsEncrypt(hex(KEY), hex(TWEAK), addrTweak(pa), line), 'ciphertext matches the key and tweak');
  t.end();
});

t.test('the shell: refusal for non-root, key bytes never printed, revoke while mapped', async (t) => {
  const script = [
    `keyctl add mktme k1 'type=user algorithm=aes-xts-128 key=${KEY} tweak=${TWEAK}' @u`,
    'keyctl show', 'keyctl list @u', 'keyctl describe %mktme:k1', 'keyctl rdescribe %mktme:k1',
    'keyctl read %mktme:k1', 'keyctl print %mktme:k1', 'cat /proc/keys', 'cat /proc/key-users',
    'dmesg', 'stat', 'cat /sys/kernel/mm/mktme/keyid_pages',
    'mmap 4K', 'encrypt_mprotect 0x7efffffff000 4K rw %mktme:k1',
    'su 1000', 'keyctl add mktme k2 type=no-encrypt @s', 'exit',
  ].join('\n');
  const r = await runShell(['--seed', '4', '-c', script]);
  const all = r.stdout + r.stderr;
  t.notOk(all.toLowerCase().includes(KEY), 'the data key never appears');
  t.notOk(all.toLowerCase().includes(TWEAK), 'the tweak key never appears');
  t.notOk(all.includes(Buffer.from(hex(KEY)).toString('latin1')), 'nor its raw bytes');
  t.match(r.stderr, /keyctl_read_alloc: Operation not supported/, 'READ is refused');
  t.match(r.stderr, /add_key: Permission denied/, 'an unprivileged user may not add an mktme key');
  t.end();
});

t.test('the shell: a revoked key keeps its mapping readable, KeyID freed after munmap', async (t) => {
  const script = [
    "keyctl add mktme k1 'type=cpu algorithm=aes-xts-256' @u",
    'mmap 4K',
    'encrypt_mprotect 0x7efffffff000 4K rw 1397604227',
    "write 0x7efffffff000 'still here'",
    'keyctl revoke 1397604227',
    'read 0x7efffffff000 10',
    'cat /sys/kernel/mm/mktme/keyid_pages',
    'munmap 0x7efffffff000 4K',
    'cat /sys/kernel/mm/mktme/keyid_pages',
    "keyctl add mktme k2 'type=cpu algorithm=aes-xts-128' @u",
    'mmap 4K',
    'encrypt_mprotect 0x7efffffff000 4K rw 714764569',
    "write 0x7efffffff000 'x'",
    'pagemap 0x7efffffff000',
  ].join('\n');
  const r = await runShell(['--seed', '1', '-c', script]);
  t.match(r.stdout, /^still here$/m, 'data readable after revoke');
  t.match(r.stdout, /^1 1$/m, 'KeyID 1 in use by one page while mapped');
  t.match(r.stdout, /keyid=1 /, 'KeyID 1 reused for the next key after the last reference went');
  t.end();
});

t.test('on the real machine: all-or-nothing across packages, DEVICE_BUSY retried', (t) => {
  const rig = bootKernel({ ...SMALL, seed: 5 });
  const [p0, p1] = rig.machine.packages;
  // Package 1's RNG runs dry for longer than the 10 tries: the key fails everywhere.
  p1.engine.injectEntropyError = 50;
  const bad = add_mktme_key(rig.init.cred, 'dry');
  t.equal(bad, -126, '-ENOKEY');
  t.equal(p0.engine.keyMode(1), 0, 'package 0 was cleared again (TME mode)');
  t.equal(p1.engine.keyMode(1), 0, 'package 1 never programmed');
  p1.engine.injectEntropyError = 0;
  // A key-table lock held for a few tries on package 0: retried, then programmed.
  p0.engine.injectBusy = 3;
  const ok = add_mktme_key(rig.init.cred, 'busy');
  t.ok(ok > 0, 'programmed after retries');
  t.equal(p0.engine.keyMode(1), 1, 'KeyID 1 is a key on package 0');
  t.equal(p1.engine.keyMode(1), 1, 'and on package 1');
  t.equal(rig.machine.counters.pconfigByResult.get(5), 3, 'three DEVICE_BUSY results seen');
  t.end();
});
