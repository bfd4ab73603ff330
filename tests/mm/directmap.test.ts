/**
 * The kernel page tables: one direct mapping per KeyID, entry bits, and what the
 * aliases do to data (KeyID N's alias reads back what it wrote, KeyID 0's reads
 * garbage, the DIMMs hold ciphertext), at high addresses too: KeyID 63 near 2^46 on
 * the default 46-bit CPU and near 2^52 on a 52-bit one. Also the VA-space limit that
 * disables MKTME, and a 16 GiB machine.
 */
import t, { type Test } from 'tap';
import { X86_CR0_PG, X86_CR0_WP } from '../../arch/x86/hw/isa.js';
import {
  PAGE_OFFSET, __pa, __va, direct_mapping_keyids, direct_mapping_size, page_address, va_keyid,
} from '../../arch/x86/include/asm/page.js';
import {
  _PAGE_GLOBAL, _PAGE_NX_HI, _PAGE_PRESENT, _PAGE_PSE, _PAGE_RW, _PAGE_USER, pte_addr, pte_keyid, pte_pfn,
} from '../../arch/x86/include/asm/pgtable_types.js';
import {
  clflush_cache_range, memcpy_fromio, memcpy_toio, read_cr0, read_cr3, readl, wbinvd,
} from '../../arch/x86/include/asm/processor.js';
import {
  PG_LEVEL_1G, PG_LEVEL_2M, direct_map_counts, init_mm_pgd, lookup_address,
} from '../../arch/x86/mm/init.js';
import { mktme_keyid_shift, mktme_nr_keyids } from '../../arch/x86/mm/mktme.js';
import { page_keyid } from '../../arch/x86/include/asm/mktme.js';
import { GFP_KERNEL, __free_pages, alloc_pages, max_pfn, nr_free_pages } from '../../mm/page_alloc.js';
import { page_to_nid } from '../../mm/page.js';
import { bootKernel, programKey, type Booted } from '../lib/boot.js';
import { EINVAL } from '../../kernel/errno.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const TiB = 2 ** 40;

const text = (s: string): Uint8Array => new TextEncoder().encode(s.padEnd(64, '.'));
const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
function read(va: number, len = 64): Uint8Array { const b = new Uint8Array(len); memcpy_fromio(va, b); return b; }

/** Write through KeyID `keyid`'s alias of a fresh page, flush it, and look at it every way. */
function aliasCheck(t: Test, b: Booted, keyid: number): void {
  const pfn = alloc_pages(GFP_KERNEL, 0, keyid, 1);
  t.ok(pfn >= 0, `page for KeyID ${keyid}`);
  const pa = pfn * 4096;
  t.equal(page_keyid(pfn), keyid);
  t.equal(page_address(pfn), __va(pa, keyid));
  const msg = text(`KeyID ${keyid} secret at ${pa.toString(16)}`);
  memcpy_toio(page_address(pfn), msg);
  t.ok(same(read(page_address(pfn)), msg), 'read back through the same alias (cache)');
  clflush_cache_range(page_address(pfn), 4096);
  t.ok(same(read(page_address(pfn)), msg), 'read back through the same alias (memory)');
  const via0 = read(__va(pa, 0));
  t.notOk(same(via0, msg), 'KeyID 0 alias reads garbage');
  const raw = b.machine.probe.read(pa, 64)!;
  t.notOk(same(raw, msg), 'DIMM holds ciphertext');
  t.notOk(same(raw, via0), 'not the platform key\'s plaintext either');
  t.notOk(b.machine.probe.scan(pa, 4096, msg.subarray(0, 16)), 'plaintext nowhere in the page');
  clflush_cache_range(__va(pa, 0), 4096); // drop the clean KeyID-0 lines the read brought in
  __free_pages(pfn, 0);
  t.equal(page_keyid(pfn), 0, 'KeyID reset on free');
}

t.test('page tables are loaded and shaped like Linux\'s', (t) => {
  bootKernel();
  t.equal(read_cr3(), init_mm_pgd());
  t.ok(read_cr0() >= X86_CR0_PG && (read_cr0() & X86_CR0_WP) !== 0, 'CR0.PG and CR0.WP');
  t.equal(mktme_nr_keyids(), 63);
  t.equal(direct_mapping_size(), TiB);
  t.equal(direct_mapping_keyids(), 64);
  for (const keyid of [0, 1, 63]) {
    const l = lookup_address(__va(64 * MiB, keyid))!;
    t.ok(l, `KeyID ${keyid} mapped`);
    t.equal(l.level, PG_LEVEL_2M, '2 MiB pages (RAM is not 1 GiB aligned here)');
    const f = l.pte.lo;
    t.ok(f & _PAGE_PRESENT && f & _PAGE_RW && f & _PAGE_GLOBAL && f & _PAGE_PSE, 'P RW G PS');
    t.notOk(f & _PAGE_USER, 'not user');
    t.ok(l.pte.hi & _PAGE_NX_HI, 'NX');
    t.equal(pte_keyid(l.pte), keyid, 'KeyID in the leaf');
    t.equal(pte_pfn(l.pte), 64 * MiB / 4096);
    // The pointer to the next level carries KeyID 0: tables are read through KeyID 0.
    const pml4e = { lo: readl(__va(init_mm_pgd()) + Math.floor(__va(0, keyid) / 2 ** 39) * 8), hi: 0 };
    pml4e.hi = readl(__va(init_mm_pgd()) + Math.floor(__va(0, keyid) / 2 ** 39) * 8 + 4);
    t.equal(pte_keyid(pml4e), 0, 'table pointers carry KeyID 0');
    t.notOk(pml4e.lo & _PAGE_USER, 'kernel half not user');
  }
  t.equal(lookup_address(__va(GiB)), null, 'nothing mapped where there is no memory');
  t.ok(lookup_address(__va(4 * GiB + 4096)), 'persistent memory is mapped');
  t.equal(lookup_address(__va(0, 64)), null, 'no KeyID 64');
  t.same(direct_map_counts(), { k4: 0, m2: 128 + 32, g1: 0 }, 'KeyID 0: 256 MiB RAM + 64 MiB NVRAM in 2 MiB pages');
  t.equal(__pa(__va(12345, 17)), 12345);
  t.equal(va_keyid(__va(12345, 17)), 17);
  t.equal(__pa(PAGE_OFFSET - 1), -1);
  t.equal(__pa(__va(0, 64)), -1);
  t.end();
});

t.test('KeyID N alias vs KeyID 0 alias', (t) => {
  const b = bootKernel();
  programKey(b, 1, 11);
  programKey(b, 2, 22);
  aliasCheck(t, b, 1);
  aliasCheck(t, b, 2);
  // KeyID 0 is encrypted too (TME): the DIMM never sees the plaintext.
  const pfn = alloc_pages(GFP_KERNEL, 0);
  const msg = text('KeyID 0 data');
  memcpy_toio(page_address(pfn), msg);
  wbinvd();
  t.ok(same(read(page_address(pfn)), msg));
  t.notOk(same(b.machine.probe.read(pfn * 4096, 64)!, msg), 'TME: ciphertext in DRAM');
  // A KeyID nobody programmed uses the platform key: it reads KeyID 0's data in clear.
  t.ok(same(read(__va(pfn * 4096, 9)), msg), 'unprogrammed KeyID 9 = TME key');
  t.end();
});

t.test('KeyID 63 near 2^46 (MAXPHYADDR 46)', (t) => {
  const b = bootKernel();
  t.equal(mktme_keyid_shift(), 40);
  programKey(b, 63, 63);
  const pfn = alloc_pages(GFP_KERNEL, 0, 63, 1);
  const l = lookup_address(page_address(pfn))!;
  t.equal(pte_addr(l.pte), 63 * 2 ** 40 + Math.floor(pfn / 512) * 512 * 4096, 'leaf address = KeyID 63 << 40 | pa');
  t.ok(pte_addr(l.pte) > 2 ** 45.9);
  __free_pages(pfn, 0);
  aliasCheck(t, b, 63);
  t.end();
});

t.test('KeyID 63 near 2^52 (MAXPHYADDR 52)', (t) => {
  const b = bootKernel({ cpu: { maxPhysAddr: 52 }, memPerNode: GiB + 8 * MiB });
  t.equal(mktme_keyid_shift(), 46);
  t.equal(direct_mapping_size(), TiB, 'still 1 TiB apart');
  programKey(b, 63, 5);
  const pfn = alloc_pages(GFP_KERNEL, 0, 63, 1);
  t.ok(pfn * 4096 > GiB, 'a page above 1 GiB');
  const l = lookup_address(page_address(pfn))!;
  t.equal(pte_keyid(l.pte), 63);
  t.ok(pte_addr(l.pte) > 2 ** 51.9, `leaf address ${pte_addr(l.pte).toString(16)}`);
  __free_pages(pfn, 0);
  aliasCheck(t, b, 63);
  t.end();
});

t.test('not enough virtual address space: MKTME disabled', (t) => {
  const b = bootKernel({ cpu: { maxPhysAddr: 52 }, nvramSize: 2 * TiB });
  t.ok(b.console.some((l) => l.endsWith('x86/mktme: Disabled. Not enough virtual address space')));
  t.ok(b.console.some((l) => l.endsWith('x86/mktme: Consider switching to 5-level paging')));
  t.equal(mktme_nr_keyids(), 0);
  t.equal(direct_mapping_size(), 4 * TiB, 'power of two covering 2 TiB of NVRAM above 4 GiB');
  t.equal(direct_mapping_keyids(), 1);
  t.equal(alloc_pages(GFP_KERNEL, 0, 1), -EINVAL, 'no KeyID 1');
  const pmem = 4 * GiB + 2 * TiB - 4096;
  memcpy_toio(__va(pmem), text('end of NVRAM'));
  t.ok(same(read(__va(pmem)), text('end of NVRAM')), 'KeyID 0 mapping covers all of it');
  t.equal(lookup_address(__va(4 * GiB))!.level, PG_LEVEL_1G);
  t.end();
});

t.test('16 GiB machine', (t) => {
  const b = bootKernel({ memPerNode: 8 * GiB });
  t.equal(max_pfn, 17 * GiB / 4096, 'RAM continues above the PCI hole');
  t.ok(nr_free_pages() > 16 * GiB / 4096 - 2000);
  t.same(direct_map_counts(), { k4: 0, m2: 32, g1: 3 + 13 }, '1 GiB pages for RAM, 2 MiB for the NVRAM');
  programKey(b, 2, 2);
  const pfn = alloc_pages(GFP_KERNEL, 10, 2, 1);
  t.equal(page_to_nid(pfn), 1);
  t.ok(pfn * 4096 >= 9 * GiB);
  const msg = text('high page');
  memcpy_toio(page_address(pfn + 1023), msg);
  t.ok(same(read(page_address(pfn + 1023)), msg));
  t.equal(lookup_address(page_address(pfn))!.level, PG_LEVEL_1G);
  __free_pages(pfn, 10);
  t.end();
});
