/**
 * fork under each KeyID mode (KeyID 0, a CPU-generated key, a no-encrypt key): the child
 * reads the same data; private pages are copied into distinct pages of the same KeyID,
 * shared pages are the same page; later stores go where they should; exit gives
 * everything back.
 */
import t from 'tap';
import { bootKernel, SMALL } from '../lib/boot.js';
import { add_mktme_key, as, dec, fork, keyid_refs, uread, uwrite } from '../lib/task.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PROT_NONE, PROT_READ, PROT_WRITE, sys_mmap } from '../../mm/mmap.js';
import { sys_encrypt_mprotect, sys_mprotect } from '../../mm/mprotect.js';
import { follow_pte } from '../../mm/memory.js';
import { pte_keyid, pte_pfn } from '../../arch/x86/include/asm/pgtable_types.js';
import { page_keyid } from '../../arch/x86/include/asm/mktme.js';
import { nr_free_pages, page_count } from '../../mm/page_alloc.js';
import { kernel_wait4 } from '../../kernel/exit.js';
import { sys_exit } from '../../kernel/exit.js';
import { vma_keyid } from '../../mm/vma.js';

const RW = PROT_READ | PROT_WRITE;

for (const mode of ['KeyID 0', 'cpu key', 'no-encrypt key'] as const) {
  t.test(`fork with ${mode}`, async (t) => {
    const r = bootKernel(SMALL);
    const init = r.init;
    const serial = mode === 'KeyID 0' ? -1 : add_mktme_key(init.cred, 'k', mode === 'cpu key'
      ? 'type=cpu algorithm=aes-xts-128' : 'type=no-encrypt');
    t.ok(serial === -1 || serial > 0, 'key added');
    const priv = as(init, () => sys_mmap(0, 2 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS));
    t.equal(as(init, () => sys_encrypt_mprotect(priv, 2 * 4096, RW, serial)), 0);
    const shared = as(init, () => sys_mmap(0, 4096, RW, MAP_SHARED | MAP_ANONYMOUS));
    const keyid = vma_keyid(init.mm!.mmap.find((v) => v.vm_start === priv)!);
    t.equal(keyid > 0, mode !== 'KeyID 0', `private VMA KeyID ${keyid}`);
    t.ok(uwrite(init, priv, 'private page 0').ok);
    t.ok(uwrite(init, priv + 4096, 'private page 1').ok);
    t.ok(uwrite(init, shared, 'shared page').ok);
    const refs0 = keyid ? keyid_refs(keyid) : 0;
    t.equal(refs0, keyid ? 1 + 1 + 2 : 0, 'key + VMA + two pages');
    const free = nr_free_pages();

    const child = fork(init);
    t.equal(child.cpu, (init.cpu + 1) % 4, 'the child runs on another CPU: the next one, round robin (select_task_rq)');
    for (const [va, text] of [[priv, 'private page 0'], [priv + 4096, 'private page 1'], [shared, 'shared page']] as const) {
      const c = uread(child, va, text.length);
      t.equal(c.ok && dec(c.value), text, `child reads ${text}`);
    }
    const p0 = follow_pte(init.mm!, priv)!;
    const c0 = follow_pte(child.mm!, priv)!;
    t.not(pte_pfn(c0), pte_pfn(p0), 'private page copied into a new page'); // which frame is the allocator's choice
    t.equal(pte_keyid(c0), keyid, 'the copy is mapped with the same KeyID');
    t.equal(page_keyid(pte_pfn(c0)), keyid, 'and allocated with it');
    const ps = follow_pte(init.mm!, shared)!;
    const cs = follow_pte(child.mm!, shared)!;
    t.equal(pte_pfn(cs), pte_pfn(ps), 'shared page is the same page');
    t.equal(page_count(pte_pfn(ps)), 3, 'object + two mappings');
    if (keyid) t.equal(keyid_refs(keyid), refs0 + 1 + 2, 'the child holds its VMA and page references');

    t.ok(uwrite(init, priv, 'PARENT').ok);
    t.ok(uwrite(init, shared, 'PARENT').ok);
    const cp = uread(child, priv, 14);
    t.equal(cp.ok && dec(cp.value), 'private page 0', 'private stores stay private');
    const cs2 = uread(child, shared, 11);
    t.equal(cs2.ok && dec(cs2.value), 'PARENT page', 'shared stores are seen');
    t.ok(uwrite(child, shared + 100, 'from child').ok);
    const ps2 = uread(init, shared + 100, 10);
    t.equal(ps2.ok && dec(ps2.value), 'from child', 'both ways');

    as(child, () => sys_exit(3));
    const st = { value: 0 };
    t.equal(kernel_wait4(init, -1, st), child.pid);
    t.equal(st.value, 3 << 8, 'exit status 3');
    t.equal(nr_free_pages(), free, 'the child\'s pages and tables are free again');
    if (keyid) t.equal(keyid_refs(keyid), refs0, 'and its KeyID references dropped');
    t.equal(page_count(pte_pfn(ps)), 2);
  });
}

t.test('fork copies PROT_NONE pages, not untouched ones', async (t) => {
  const { init } = bootKernel(SMALL);
  const a = as(init, () => sys_mmap(0, 4 * 4096, RW, MAP_PRIVATE | MAP_ANONYMOUS));
  t.ok(uwrite(init, a + 4096, 'kept').ok);
  t.equal(as(init, () => sys_mprotect(a + 4096, 4096, PROT_NONE)), 0);
  const child = fork(init);
  t.equal(child.mm!.rss_anon, 1, 'only the resident (PROT_NONE) page is copied');
  t.equal(child.mm!.mmap.length, 3);
  t.equal(as(child, () => sys_mprotect(a + 4096, 4096, PROT_READ)), 0);
  const r = uread(child, a + 4096, 4);
  t.equal(r.ok && dec(r.value), 'kept', 'its contents came along');
  t.ok(uwrite(init, a, 'x').ok);
  t.equal(child.mm!.rss_anon, 1, 'parent faults do not reach the child');
});
