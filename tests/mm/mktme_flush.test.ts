/**
 * prep_encrypted_page / free_encrypted_page: the flush rules of the MKTME series'
 * arch/x86/mm/mktme.c.
 * With `mktme.noflush` the stale-alias corruption they prevent really happens: dirty
 * lines of a page's old alias, written back after the page has a new KeyID, land on
 * top of the new KeyID's data. Without noflush the same sequence is harmless. Also
 * KeyID references, per-KeyID page counts, and the allocator's KeyID checks.
 */
import t from 'tap';
import { __va, page_address } from '../../arch/x86/include/asm/page.js';
import { clflush_cache_range, memcpy_fromio, memcpy_toio } from '../../arch/x86/include/asm/processor.js';
import { keyid_pages, mktme_noflush, mktme_set_keyid_ref_ops, prep_encrypted_page } from '../../arch/x86/mm/mktme.js';
import { page_keyid } from '../../arch/x86/include/asm/mktme.js';
import { log_records } from '../../kernel/printk.js';
import { GFP_KERNEL, __GFP_ZERO, __free_pages, alloc_pages, nr_free_pages, put_page, get_page } from '../../mm/page_alloc.js';
import { bootKernel, programKey } from '../lib/boot.js';
import { EINVAL } from '../../kernel/errno.js';

const pattern = (seed: number): Uint8Array => Uint8Array.from({ length: 4096 }, (_, i) => (i * 7 + seed) & 0xff);
const same = (a: Uint8Array, b: Uint8Array): boolean => a.every((x, i) => x === b[i]);
function readPage(va: number): Uint8Array { const b = new Uint8Array(4096); memcpy_fromio(va, b); return b; }

/**
 * The hazard: a page used with `oldKeyid` is written, freed, and reallocated with
 * KeyID 2. The new owner writes B; B reaches DRAM (its lines are evicted), then the
 * old alias's lines are evicted too. Returns what KeyID 2 then reads.
 */
function reuse(noflush: boolean, oldKeyid: number): { data: Uint8Array; B: Uint8Array; samePage: boolean } {
  const b = bootKernel({ cmdline: noflush ? 'mktme.noflush' : '' });
  programKey(b, 1, 101);
  programKey(b, 2, 202);
  const keep = alloc_pages(GFP_KERNEL, 0, 0, 1); // P's buddy stays allocated, so P is reused first
  const p = alloc_pages(GFP_KERNEL, 0, oldKeyid, 1);
  const pa = p * 4096;
  memcpy_toio(page_address(p), pattern(1));      // dirty lines of the old alias
  __free_pages(p, 0);
  const q = alloc_pages(GFP_KERNEL | __GFP_ZERO, 0, 2, 1);
  const B = pattern(2);
  memcpy_toio(page_address(q), B);
  clflush_cache_range(__va(pa, 2), 4096);        // the new data is evicted to DRAM...
  clflush_cache_range(__va(pa, oldKeyid), 4096); // ...then the old alias's lines are
  const data = readPage(page_address(q));
  __free_pages(keep, 0);
  return { data, B, samePage: q === p };
}

t.test('noflush: stale KeyID-1 lines corrupt the page\'s KeyID-2 data', (t) => {
  const r = reuse(true, 1);
  t.ok(mktme_noflush());
  t.ok(r.samePage, 'the freed page was reallocated');
  t.notOk(same(r.data, r.B), 'KeyID 2 reads garbage');
  t.end();
});

t.test('with the flushes the same sequence is harmless', (t) => {
  const r = reuse(false, 1);
  t.notOk(mktme_noflush());
  t.ok(r.samePage);
  t.ok(same(r.data, r.B), 'KeyID 2 reads its data');
  t.end();
});

t.test('noflush: stale KeyID-0 lines corrupt a page given a KeyID', (t) => {
  // KeyID 0 pages are not flushed when freed; prep_encrypted_page flushes the KeyID-0
  // alias when the page gets a KeyID. Skip that and the kernel's old data wins.
  const bad = reuse(true, 0);
  t.ok(bad.samePage);
  t.notOk(same(bad.data, bad.B), 'noflush: corrupted');
  const good = reuse(false, 0);
  t.ok(same(good.data, good.B), 'flushing: intact');
  t.end();
});

t.test('KeyID references and per-KeyID page counts', (t) => {
  bootKernel();
  const calls: string[] = [];
  mktme_set_keyid_ref_ops({
    get: (k, n) => calls.push(`get ${k} ${n}`),
    put: (k, n) => calls.push(`put ${k} ${n}`),
  });
  const p = alloc_pages(GFP_KERNEL, 2, 3);
  t.same(calls, ['get 3 4'], 'one reference per 4K page');
  t.equal(keyid_pages(3), 4);
  for (let i = 0; i < 4; i++) t.equal(page_keyid(p + i), 3);
  get_page(p);
  __free_pages(p, 2);
  t.same(calls, ['get 3 4'], 'still referenced');
  put_page(p);
  t.same(calls, ['get 3 4', 'put 3 4']);
  t.equal(keyid_pages(3), 0);
  t.equal(page_keyid(p + 3), 0);
  mktme_set_keyid_ref_ops(null);
  const q = alloc_pages(GFP_KERNEL, 0, 5);
  __free_pages(q, 0);
  t.equal(calls.length, 2, 'unhooked: no calls');
  t.end();
});

t.test('KeyID checks', (t) => {
  bootKernel();
  const free0 = nr_free_pages();
  t.equal(alloc_pages(GFP_KERNEL, 0, 64), -EINVAL, 'KeyID 64 does not exist');
  t.equal(alloc_pages(GFP_KERNEL, 0, -1), -EINVAL);
  t.equal(nr_free_pages(), free0, 'nothing leaked');
  const p = alloc_pages(GFP_KERNEL, 0, 4);
  prep_encrypted_page(p, 0, 6, false);
  t.ok(log_records().some((r) => r.text.includes('already has KeyID 4')), 'WARN on a page that has a KeyID');
  t.equal(keyid_pages(4), 0, 'the old KeyID gave the page up');
  t.equal(keyid_pages(6), 1);
  __free_pages(p, 0);
  t.equal(page_keyid(p), 0);
  t.equal(keyid_pages(6), 0);
  t.end();
});

t.test('deferred zeroing: a KeyID page is zero through its own alias', (t) => {
  const b = bootKernel();
  programKey(b, 7, 77);
  const p = alloc_pages(GFP_KERNEL, 0, 0, 1);
  memcpy_toio(page_address(p), pattern(9));
  __free_pages(p, 0);
  const q = alloc_pages(GFP_KERNEL | __GFP_ZERO, 0, 7, 1);
  t.equal(q, p);
  clflush_cache_range(page_address(q), 4096);
  t.ok(readPage(page_address(q)).every((x) => x === 0), 'zero as KeyID 7 sees it');
  t.notOk(readPage(__va(q * 4096, 0)).every((x) => x === 0), 'not zero as KeyID 0 sees it');
  t.end();
});
