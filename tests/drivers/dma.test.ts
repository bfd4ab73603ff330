/**
 * DMA on the booted kernel: the virtio disk reads straight into an encrypted process
 * page (through the IOMMU, the leaf carrying the page's KeyID; or with dma-direct, the
 * KeyID in the bus address; or bounced through swiotlb's KeyID-0 buffers for a 32-bit
 * device), the process reads the disk's plaintext and DRAM holds exactly AES-XTS under
 * the process's type=user key. Also: the kernel's second-level and context entries
 * field by field, unmap really revoking the device's access, and clean errors.
 */
import t, { type Test } from 'tap';
import { addrTweak, xtsEncrypt } from '../../arch/x86/hw/crypto/xts.js';
import type { Machine } from '../../arch/x86/hw/machine.js';
import { pte_pfn } from '../../arch/x86/include/asm/pgtable_types.js';
import { blkdev_direct_io, get_disk, REQ_OP_READ, REQ_OP_WRITE } from '../../drivers/block/genhd.js';
import { dmar_fault_log } from '../../drivers/iommu/intel/dmar.js';
import { device_domain, dma_pte_addr, dma_pte_keyid, domain_walk } from '../../drivers/iommu/intel/iommu.js';
import { pci_get_slot } from '../../drivers/pci/pci.js';
import { mktme_keyid_shift } from '../../arch/x86/mm/mktme.js';
import { page_keyid } from '../../arch/x86/include/asm/mktme.js';
import { DMA_FROM_DEVICE, DMA_TO_DEVICE, dma_map_page, dma_unmap_page } from '../../kernel/dma/mapping.js';
import { swiotlb_stats } from '../../kernel/dma/swiotlb.js';
import { follow_pte } from '../../mm/memory.js';
import { get_user_pages, unpin_user_pages } from '../../mm/gup.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE, sys_mmap } from '../../mm/mmap.js';
import { sys_encrypt_mprotect } from '../../mm/mprotect.js';
import type { task_struct } from '../../kernel/sched.js';
import { bootKernel, logLines, MiB, SMALL, type BootOptions } from '../lib/boot.js';
import { add_mktme_key, as, enc, fork, uread } from '../lib/task.js';
import { O_RDONLY, O_RDWR } from '../../fs/file.js';
import { sys_close, sys_open } from '../../fs/open.js';
import { sys_pread64, sys_pwrite64 } from '../../fs/read_write.js';
import { cred_su } from '../../kernel/cred.js';

const KEY = '00112233445566778899aabbccddeeff';
const TWEAK = 'f0e1d2c3b4a5968778695a4b3c2d1e0f';
const hex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g)!.map((b) => parseInt(b, 16)));
const SID = 3 << 3; // 00:03.0

/** A process page under a type=user key: its va and pfn. */
function encryptedPage(init: task_struct): { va: number; pfn: number; keyid: number } {
  const serial = add_mktme_key(init.cred, 'disk', `type=user algorithm=aes-xts-128 key=${KEY} tweak=${TWEAK}`);
  const va = as(init, () => sys_mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS));
  as(init, () => sys_encrypt_mprotect(va, 4096, PROT_READ | PROT_WRITE, serial));
  const pfns = as(init, () => get_user_pages(init.mm!, va, 1, true)) as number[];
  unpin_user_pages(pfns);
  return { va, pfn: pfns[0], keyid: page_keyid(pfns[0]) };
}

/** O_DIRECT read of `len` bytes at sector 0 into page `pfn`, as `blk read` does it. */
function directRead(init: task_struct, va: number, len: number): number {
  return as(init, () => {
    const pfns = get_user_pages(init.mm!, va, 1, true) as number[];
    try { return blkdev_direct_io(get_disk('vda')!, REQ_OP_READ, 0, [{ pfn: pfns[0], offset: 0, len }]); }
    finally { unpin_user_pages(pfns); }
  });
}

function plaintext(m: Machine, len: number): Uint8Array {
  const data = new Uint8Array(len).map((_, i) => (i * 7 + 3) & 0xff);
  m.disks[0].medium.write(0, data, 0, len);
  return data;
}

function checkEncryptedRead(t: Test, opts: BootOptions, what: string): ReturnType<typeof bootKernel> {
  const rig = bootKernel({ ...SMALL, seed: 7, ...opts });
  const page = encryptedPage(rig.init);
  t.equal(page.keyid, 1, 'the page has KeyID 1');
  const data = plaintext(rig.machine, 4096);
  t.equal(directRead(rig.init, page.va, 4096), 0, `${what}: the read succeeds`);
  t.same(uread(rig.init, page.va, 4096), { ok: true, value: data }, 'the process reads the disk\'s plaintext');
  for (const c of rig.machine.cpus) c.wbinvd();
  const pa = page.pfn * 4096;
  const dram = rig.machine.probe.read(pa, 4096)!;
  const expect = new Uint8Array(4096);
  for (let o = 0; o < 4096; o += 64) expect.set(xtsEncrypt(hex(KEY), hex(TWEAK), addrTweak(pa + o), data.subarray(o, o + 64)), o);
  t.same(dram, expect, 'DRAM holds AES-XTS under the user key at the page\'s physical address');
  return rig;
}

t.test('through the IOMMU: the leaf carries the page\'s KeyID', (t) => {
  checkEncryptedRead(t, {}, 'translated');
  t.equal(swiotlb_stats.maps, 0, 'no bounce');
  t.end();
});

t.test('iommu=pt: the bus address carries the KeyID (phys_to_dma)', (t) => {
  checkEncryptedRead(t, { cmdline: 'iommu=pt' }, 'pass-through');
  t.same(logLines(/Default domain type/), ['iommu: Default domain type: Passthrough (set via kernel command line)']);
  t.equal(swiotlb_stats.maps, 0, 'no bounce: a 64-bit device reaches the KeyID bits');
  t.end();
});

t.test('a 32-bit DMA device without IOMMU bounces through KeyID-0 swiotlb buffers', (t) => {
  checkEncryptedRead(t, { cmdline: 'intel_iommu=off', disks: [{ file: null, size: MiB, dmaBits: 32 }] }, 'bounced');
  t.ok(swiotlb_stats.maps >= 1, 'the data went through a bounce buffer');
  t.same(logLines(/swiotlb \(KeyID 0\)/),
    ['virtio-pci 0000:00:03.0: DMA mask of 32 bits cannot reach the MKTME KeyID bits: encrypted pages bounce through swiotlb (KeyID 0)']);
  t.end();
});

t.test('a 32-bit device behind the IOMMU: IOVAs below 4 GiB, no bounce', (t) => {
  const rig = bootKernel({ ...SMALL, seed: 7, disks: [{ file: null, size: MiB, dmaBits: 32 }] });
  const page = encryptedPage(rig.init);
  const dev = pci_get_slot(0, SID)!.dev;
  const iova = dma_map_page(dev, page.pfn, 0, 4096, DMA_FROM_DEVICE);
  t.ok(iova > 0 && iova + 4096 <= 2 ** 32, `IOVA 0x${iova.toString(16)} below 4 GiB`);
  dma_unmap_page(dev, iova, 4096, DMA_FROM_DEVICE);
  t.equal(directRead(rig.init, page.va, 512), 0);
  t.equal(swiotlb_stats.maps, 0, 'no bounce');
  t.end();
});

t.test('the kernel\'s tables: context entry and every level, KeyIDs where the series put them', (t) => {
  const rig = bootKernel({ ...SMALL, seed: 8 });
  const page = encryptedPage(rig.init);
  const pdev = pci_get_slot(0, SID)!;
  const d = device_domain(pdev.dev)!;
  t.equal(d.type, 'DMA');
  const iova = dma_map_page(pdev.dev, page.pfn, 0x200, 0x100, DMA_TO_DEVICE);
  t.equal(iova % 4096, 0x200, 'the offset survives');
  const walk = domain_walk(d, iova);
  t.equal(walk.length, 4, 'four levels');
  for (const e of walk.slice(0, 3)) {
    t.equal(e.lo & 3, 3, 'non-leaf: R and W');
    t.equal(dma_pte_keyid(e), 0, 'non-leaf: the table page\'s KeyID (0)');
  }
  const leaf = walk[3];
  t.equal(leaf.lo & 3, 1, 'DMA_TO_DEVICE: read-only leaf');
  t.equal(dma_pte_addr(leaf), page.pfn * 4096, 'leaf address, KeyID stripped (dma_pte_addr)');
  t.equal(dma_pte_keyid(leaf), 1, 'leaf KeyID = the page\'s KeyID');
  t.equal((leaf.hi & 0xfffff) * 2 ** 32 + (leaf.lo >>> 12) * 4096, page.pfn * 4096 + 2 ** mktme_keyid_shift(), 'bits at the KeyID shift');
  // The device reads the page's plaintext through that leaf; a write is refused.
  const buf = new Uint8Array(16);
  t.equal(rig.machine.dma.read(SID, iova, buf), 'ok');
  t.equal(rig.machine.dma.write(SID, iova, buf), 'fault', 'a write through a read-only leaf faults');
  t.same(rig.machine.vtd.pendingFaults().map((f) => f.reason), [5], 'reason 5 recorded');
  // Unmap: the PTE is cleared and the IOTLB invalidated; the device can no longer reach the page.
  dma_unmap_page(pdev.dev, iova, 0x100, DMA_TO_DEVICE);
  t.equal(rig.machine.dma.read(SID, iova, buf), 'fault', 'after dma_unmap_page the device faults: no stale IOTLB entry');
  t.end();
});

t.test('faults in Linux\'s words; bad sectors and buffers give clean errors', (t) => {
  const rig = bootKernel({ ...SMALL, seed: 9 });
  const page = encryptedPage(rig.init);
  const before = new Uint8Array(512);
  rig.machine.disks[0].inject = 'unmapped';
  t.equal(directRead(rig.init, page.va, 512), -5, 'EIO');
  t.same(logLines(/^DMAR: \[/), ['DMAR: [DMA Write NO_PASID] Request device [00:03.0] fault addr 0xdead0000 [fault reason 0x05] PTE Write access is not set']);
  t.same(logLines(/^I\/O error/), ['I/O error, dev vda, sector 0 op 0x0:(READ) flags 0x0 phys_seg 1 prio class 0']);
  t.equal(dmar_fault_log().length, 1);
  // A write with the data DMA sent astray changes nothing on the disk.
  rig.machine.disks[0].inject = 'unmapped';
  const w = as(rig.init, () => {
    const pfns = get_user_pages(rig.init.mm!, page.va, 1, false) as number[];
    try { return blkdev_direct_io(get_disk('vda')!, REQ_OP_WRITE, 0, [{ pfn: pfns[0], offset: 0, len: 512 }]); }
    finally { unpin_user_pages(pfns); }
  });
  t.equal(w, -5);
  t.match(logLines(/^DMAR: \[/)[1], /\[DMA Read NO_PASID\].*fault reason 0x06\] PTE Read access is not set/);
  const disk = new Uint8Array(512);
  rig.machine.disks[0].medium.read(0, disk, 0, 512);
  t.same(disk, before, 'the sector is untouched');
  // Beyond the end, and partial sectors.
  const cap = get_disk('vda')!.capacity;
  const pfns = as(rig.init, () => get_user_pages(rig.init.mm!, page.va, 1, true)) as number[];
  t.equal(blkdev_direct_io(get_disk('vda')!, REQ_OP_READ, cap - 1, [{ pfn: pfns[0], offset: 0, len: 1024 }]), -5);
  t.same(logLines(/attempt to access|rw=0/), ['vda: attempt to access beyond end of device', `vda: rw=0, sector=${cap - 1}, nr_sectors = 2 limit=${cap}`]);
  t.equal(blkdev_direct_io(get_disk('vda')!, REQ_OP_READ, 0, [{ pfn: pfns[0], offset: 0, len: 100 }]), -22, 'EINVAL');
  unpin_user_pages(pfns);
  // The disk still works afterwards.
  t.equal(directRead(rig.init, page.va, 512), 0);
  t.end();
});

t.test('/dev/vda through the fd layer: a block node, buffered pread/pwrite, DAC', (t) => {
  const rig = bootKernel({ ...SMALL, seed: 10 });
  const data = plaintext(rig.machine, 4096);
  const fd = as(rig.init, () => sys_open('/dev/vda', O_RDWR));
  t.ok(fd >= 0, `open ${fd}`);
  const buf = new Uint8Array(100);
  t.equal(as(rig.init, () => sys_pread64(fd, buf, 1000)), 100, 'an unaligned read');
  t.same(buf, data.subarray(1000, 1100));
  t.equal(as(rig.init, () => sys_pwrite64(fd, enc('patched'), 2000)), 7, 'an unaligned write (read-modify-write)');
  const sec = new Uint8Array(512);
  rig.machine.disks[0].medium.read(1536, sec, 0, 512);
  t.same(sec.subarray(464, 471), enc('patched'), 'on the medium');
  t.same(sec.subarray(0, 464), data.subarray(1536, 2000), 'the rest of the sector kept');
  t.equal(as(rig.init, () => sys_pread64(fd, buf, get_disk('vda')!.capacity * 512)), 0, 'end of device');
  as(rig.init, () => sys_close(fd));
  const user = fork(rig.init);
  as(user, () => cred_su(user.cred, 1000));
  t.equal(as(user, () => sys_open('/dev/vda', O_RDONLY)), -13, 'EACCES for an ordinary user (root:disk 0660)');
  t.end();
});
