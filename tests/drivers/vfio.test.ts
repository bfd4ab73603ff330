/**
 * Device assignment (VFIO-style) under MKTME: the disk taken from the host and given to
 * "VM2", whose RAM (the VMM's anonymous memory, encrypted under VM2's type=user key, the
 * pages KVM would put into the EPT) is mapped in the device's own IOMMU domain at
 * IOVA = GPA with each page's KeyID. A driver programming guest-physical addresses, as
 * the guest's virtio driver does, gets the disk's data into VM2's memory: plaintext to
 * VM2, AES-XTS under VM2's key in DRAM. VM1's memory is unreachable: a DMAR fault.
 */
import t from 'tap';
import { addrTweak, xtsEncrypt } from '../../arch/x86/hw/crypto/xts.js';
import { readl, writel } from '../../arch/x86/include/asm/processor.js';
import { page_keyid } from '../../arch/x86/include/asm/mktme.js';
import { get_disk } from '../../drivers/block/genhd.js';
import { dmar_fault_poll } from '../../drivers/iommu/intel/dmar.js';
import { dma_pte_keyid, domain_walk } from '../../drivers/iommu/intel/iommu.js';
import { pci_get_slot, pci_iomap } from '../../drivers/pci/pci.js';
import { vfio_assign_device, vfio_iommu_map_dma, vfio_iommu_unmap_dma, vfio_release, type vfio_container } from '../../drivers/vfio/vfio.js';
import { get_user_pages, unpin_user_pages } from '../../mm/gup.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE, sys_mmap } from '../../mm/mmap.js';
import { sys_encrypt_mprotect } from '../../mm/mprotect.js';
import type { task_struct } from '../../kernel/sched.js';
import { bootKernel, logLines, SMALL } from '../lib/boot.js';
import { add_mktme_key, as, dec, enc, fork, uread, uwrite } from '../lib/task.js';

const RAM = 64 * 1024;
const SID = 3 << 3;
const K = (c: string): string => c.repeat(32);
const hex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g)!.map((b) => parseInt(b, 16)));

/** A VMM process with RAM bytes of guest memory under its own type=user key. */
function vmm(tsk: task_struct, name: string, key: string): { va: number; keyid: number } {
  const serial = add_mktme_key(tsk.cred, name, `type=user algorithm=aes-xts-128 key=${K(key)} tweak=${K(key === '1' ? '2' : '4')}`);
  const va = as(tsk, () => sys_mmap(0, RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS));
  t.equal(as(tsk, () => sys_encrypt_mprotect(va, RAM, PROT_READ | PROT_WRITE, serial)), 0);
  t.ok(uwrite(tsk, va, new Uint8Array(RAM)).ok, 'guest RAM touched');
  const pfn = (as(tsk, () => get_user_pages(tsk.mm!, va, 1, false)) as number[]);
  unpin_user_pages(pfn);
  return { va, keyid: page_keyid(pfn[0]) };
}

function hpaOf(tsk: task_struct, va: number): number {
  const p = as(tsk, () => get_user_pages(tsk.mm!, va, 1, false)) as number[];
  unpin_user_pages(p);
  return p[0] * 4096;
}

t.test('a disk assigned to VM2 DMAs into VM2\'s encrypted RAM, never VM1\'s', (t) => {
  const rig = bootKernel({ ...SMALL, seed: 11 });
  const vm1 = rig.init;
  const vm2 = fork(rig.init);
  const r1 = vmm(vm1, 'vm1', '1');
  const r2 = vmm(vm2, 'vm2', '3');
  t.same([r1.keyid, r2.keyid], [1, 2], 'two VMs, two KeyIDs: the pool hands out the lowest free');
  t.ok(uwrite(vm1, r1.va + 0x2000, enc('VM1 secret')).ok);

  const pdev = pci_get_slot(0, SID)!;
  const c = vfio_assign_device(pdev) as vfio_container;
  t.equal(typeof c, 'object', 'assigned');
  t.equal(get_disk('vda'), null, 'the host lost its disk');
  t.equal(vfio_assign_device(pdev), -16, 'EBUSY the second time');
  t.equal(as(vm2, () => vfio_iommu_map_dma(c, vm2.mm!, r2.va, 0, RAM)), 0, 'VM2\'s RAM at IOVA = GPA 0');
  // The IOMMU leaf for each GPA carries the KeyID of the page behind it (= the EPT's).
  const leaf = domain_walk(c.domain, 0x3000)[3];
  t.equal(dma_pte_keyid(leaf), r2.keyid, 'IOMMU leaf KeyID = VM2\'s KeyID');

  // "The guest's driver": a virtqueue at GPAs 0x1000.. in VM2's RAM, the doorbell in BAR0.
  rig.machine.disks[0].medium.write(8 * 512, enc('sector eight'), 0, 12);
  const q = (gpa: number, b: Uint8Array): void => { t.ok(uwrite(vm2, r2.va + gpa, b).ok); };
  const desc = (i: number, addr: number, len: number, flags: number, next: number): void => {
    const b = new Uint8Array(16); const v = new DataView(b.buffer);
    v.setUint32(0, addr, true); v.setUint32(8, len, true); v.setUint16(12, flags, true); v.setUint16(14, next, true);
    q(0x1000 + 16 * i, b);
  };
  const hdr = new Uint8Array(16); new DataView(hdr.buffer).setUint32(8, 8, true); // IN, sector 8
  q(0x4000, hdr);
  desc(0, 0x4000, 16, 1, 1); desc(1, 0x3000, 512, 3, 2); desc(2, 0x4010, 1, 2, 0);
  q(0x1800, new Uint8Array([0, 0, 1, 0, 0, 0])); // avail: flags 0, idx 1, ring[0] = 0
  const bar = pci_iomap(pdev, 0);
  const w = (off: number, v: number): void => writel(bar + off, v);
  w(0x070, 0); w(0x070, 3); w(0x024, 1); w(0x020, 3); w(0x070, 11); w(0x038, 8);
  w(0x080, 0x1000); w(0x084, 0); w(0x090, 0x1800); w(0x094, 0); w(0x0a0, 0x1c00); w(0x0a4, 0);
  w(0x044, 1); w(0x070, 15);
  w(0x050, 0);
  t.equal(readl(bar + 0x060) & 1, 1, 'used-buffer notification');
  const got = uread(vm2, r2.va + 0x3000, 12);
  t.equal(got.ok ? dec(got.value) : null, 'sector eight', 'VM2 reads the sector in plaintext');
  t.same((uread(vm2, r2.va + 0x4010, 1) as { value: Uint8Array }).value, new Uint8Array([0]), 'status OK in guest memory');
  for (const cpu of rig.machine.cpus) cpu.wbinvd();
  const hpa = hpaOf(vm2, r2.va + 0x3000);
  const line = new Uint8Array(64); line.set(enc('sector eight'));
  t.same(rig.machine.probe.read(hpa, 64), xtsEncrypt(hex(K('3')), hex(K('4')), addrTweak(hpa), line), 'DRAM: AES-XTS under VM2\'s key');

  // VM1's memory: not in VM2's domain, whether named by VM1's HPA or a GPA VM2 lacks.
  const vm1hpa = hpaOf(vm1, r1.va + 0x2000);
  const b = new Uint8Array(10);
  t.equal(rig.machine.dma.read(SID, vm1hpa, b), 'fault', 'VM1\'s page by its host address: blocked');
  t.equal(rig.machine.dma.read(SID, RAM, b), 'fault', 'a GPA beyond VM2\'s RAM: blocked');
  t.equal(dmar_fault_poll(), 2);
  t.same(logLines(/^DMAR: \[/), [
    `DMAR: [DMA Read NO_PASID] Request device [00:03.0] fault addr 0x${vm1hpa.toString(16)} [fault reason 0x06] PTE Read access is not set`,
    `DMAR: [DMA Read NO_PASID] Request device [00:03.0] fault addr 0x${RAM.toString(16)} [fault reason 0x06] PTE Read access is not set`,
  ]);
  // Unmap: invalidated before the pages are unpinned; the device cannot reach them any more.
  t.equal(vfio_iommu_unmap_dma(c, 0, RAM), RAM);
  t.equal(rig.machine.dma.read(SID, 0x3000, b), 'fault', 'after unmap: no stale IOTLB entry');
  vfio_release(c);
  t.end();
});

t.test('no IOMMU, no assignment', (t) => {
  bootKernel({ ...SMALL, seed: 11, cmdline: 'intel_iommu=off' });
  t.equal(vfio_assign_device(pci_get_slot(0, SID)!), -19, 'ENODEV');
  t.end();
});
