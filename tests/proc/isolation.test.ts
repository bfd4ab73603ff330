/**
 * Isolation of a page under KeyID n: another process cannot reach it (its page tables
 * do not map it), the kernel's KeyID-0 alias of the page shows garbage while its
 * KeyID-n alias shows the data, and the DIMMs hold ciphertext. A no-encrypt key, by
 * contrast, leaves plaintext in DRAM.
 */
import t from 'tap';
import { addrTweak, xtsDecrypt, xtsEncrypt } from '../../arch/x86/hw/crypto/xts-ref.js';
import { bootKernel, SMALL } from '../lib/boot.js';
import { homeNode, lineDecrypt, platformKey } from '../hw/helpers.js';
import { add_mktme_key, as, dec, enc, fork, uread, uwrite } from '../lib/task.js';
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_NONE, PROT_READ, PROT_WRITE, sys_mmap } from '../../mm/mmap.js';
import { sys_encrypt_mprotect } from '../../mm/mprotect.js';
import { follow_pte } from '../../mm/memory.js';
import { pte_keyid, pte_pfn } from '../../arch/x86/include/asm/pgtable_types.js';
import { __va, page_address } from '../../arch/x86/include/asm/page.js';
import { clflush_cache_range, memcpy_fromio } from '../../arch/x86/include/asm/processor.js';
import { page_keyid } from '../../arch/x86/include/asm/mktme.js';
import { SIGSEGV } from '../../kernel/signal.js';

const RW = PROT_READ | PROT_WRITE;
const SECRET = 'the quick brown fox keeps its secrets under KeyID n';

function kernel_read(va: number): Uint8Array {
  const b = new Uint8Array(SECRET.length);
  memcpy_fromio(va, b);
  return b;
}

t.test('a page under a CPU key', async (t) => {
  const r = bootKernel(SMALL);
  const init = r.init;
  const b = fork(init); // other processes, forked before the secret exists
  const other = fork(init);
  const serial = add_mktme_key(init.cred, 'secret', 'type=cpu algorithm=aes-xts-128');
  const a = as(init, () => sys_mmap(0, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS));
  t.equal(as(init, () => sys_encrypt_mprotect(a, 4096, RW, serial)), 0);
  t.ok(uwrite(init, a, SECRET).ok);
  const pte = follow_pte(init.mm!, a)!;
  const pfn = pte_pfn(pte);
  const keyid = pte_keyid(pte);
  t.ok(keyid > 0, `mapped with KeyID ${keyid}`);
  t.equal(page_keyid(pfn), keyid, 'the page belongs to that KeyID');

  // Another process: the address means nothing in its page tables...
  const rb = uread(b, a, SECRET.length);
  t.same(rb, { ok: false, signal: SIGSEGV }, 'B has no mapping there: SIGSEGV');
  // ...and mapping the same address gives it its own, zeroed page.
  t.equal(as(other, () => sys_mmap(a, 4096, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)), a);
  const ro = uread(other, a, SECRET.length);
  t.ok(ro.ok && ro.value.every((x) => x === 0), 'a fresh page, not the secret');
  t.not(pte_pfn(follow_pte(other.mm!, a)!), pfn, 'a different frame'); // which one is the allocator's choice

  // The kernel's aliases of the frame.
  const via0 = kernel_read(__va(pfn * 4096, 0));
  const m = r.machine, pa = pfn * 4096;
  t.same(via0, lineDecrypt(platformKey(m, homeNode(m, pa)), pa, m.probe.read(pa, 64)!).subarray(0, SECRET.length),
    'KeyID-0 alias: garbage, the DIMM\'s bytes decrypted under the platform key');
  t.notOk(Buffer.from(via0).includes(Buffer.from('secret')), 'not even a fragment of the plaintext');
  t.equal(dec(kernel_read(page_address(pfn))), SECRET, 'KeyID-n alias (page_address): the data');
  t.equal(page_address(pfn), __va(pfn * 4096, keyid));

  // The DIMM: write the dirty lines back, then look with the physical probe.
  clflush_cache_range(page_address(pfn), 4096);
  const raw = r.machine.probe.read(pfn * 4096, 4096)!;
  t.notOk(Buffer.from(raw).includes(Buffer.from(enc('quick brown'))), 'DRAM holds ciphertext');
  t.ok(raw.some((x) => x !== 0), 'and not zeros');
  const again = uread(init, a, SECRET.length);
  t.equal(again.ok && dec(again.value), SECRET, 'the owner still reads its data');
});

t.test('a no-encrypt key leaves plaintext in DRAM', async (t) => {
  const r = bootKernel(SMALL);
  const init = r.init;
  const serial = add_mktme_key(init.cred, 'clear', 'type=no-encrypt');
  const a = as(init, () => sys_mmap(0, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS));
  t.equal(as(init, () => sys_encrypt_mprotect(a, 4096, RW, serial)), 0);
  t.ok(uwrite(init, a, SECRET).ok);
  const pfn = pte_pfn(follow_pte(init.mm!, a)!);
  clflush_cache_range(page_address(pfn), 4096);
  t.ok(r.machine.probe.scan(pfn * 4096, 4096, enc(SECRET)), 'plaintext on the DIMM');
});

t.test('KeyID 0 (TME) memory is ciphertext in DRAM too', async (t) => {
  const r = bootKernel(SMALL);
  const a = as(r.init, () => sys_mmap(0, 4096, RW, MAP_PRIVATE | MAP_ANONYMOUS));
  t.ok(uwrite(r.init, a, SECRET).ok);
  const pte = follow_pte(r.init.mm!, a)!;
  t.equal(pte_keyid(pte), 0);
  const pfn = pte_pfn(pte);
  t.equal(dec(kernel_read(__va(pfn * 4096, 0))), SECRET, 'the kernel reads it through KeyID 0');
  clflush_cache_range(page_address(pfn), 4096);
  t.notOk(r.machine.probe.scan(pfn * 4096, 4096, enc('quick brown')), 'the platform key encrypts it');
});

t.test('a wrong KeyID reads the ciphertext decrypted under its own key, exactly', async (t) => {
  const r = bootKernel(SMALL);
  const init = r.init;
  const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
  const keyA = Uint8Array.from({ length: 16 }, (_, i) => 0x10 + i), twkA = Uint8Array.from({ length: 16 }, (_, i) => 0x80 + i);
  const keyB = Uint8Array.from({ length: 16 }, (_, i) => 0x40 ^ i), twkB = Uint8Array.from({ length: 16 }, (_, i) => 0xc0 ^ i);
  const user = (k: Uint8Array, w: Uint8Array): string => `type=user algorithm=aes-xts-128 key=${hex(k)} tweak=${hex(w)}`;
  const map = (serial: number): number => {
    const va = as(init, () => sys_mmap(0, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS));
    t.equal(as(init, () => sys_encrypt_mprotect(va, 4096, RW, serial)), 0);
    return va;
  };
  const a = map(add_mktme_key(init.cred, 'tenant-a', user(keyA, twkA)));
  const b = map(add_mktme_key(init.cred, 'tenant-b', user(keyB, twkB)));
  t.ok(uwrite(init, a, SECRET).ok);
  t.ok(uwrite(init, b, 'b').ok);
  const pfn = pte_pfn(follow_pte(init.mm!, a)!);
  const keyidB = pte_keyid(follow_pte(init.mm!, b)!);
  const pa = pfn * 4096;
  const line = new Uint8Array(64);
  line.set(enc(SECRET));
  const ciphertext = xtsEncrypt(keyA, twkA, addrTweak(pa), line);
  clflush_cache_range(page_address(pfn), 4096);
  t.same(r.machine.probe.read(pa, 64), ciphertext, 'the DIMM: AES-XTS under tenant A\'s key, tweak = the address');
  const viaB = new Uint8Array(64);
  memcpy_fromio(__va(pa, keyidB), viaB);
  t.same(viaB, xtsDecrypt(keyB, twkB, addrTweak(pa), ciphertext), 'B\'s KeyID on A\'s frame: D_B(E_A(line)), no error');
});
