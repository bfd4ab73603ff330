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
import { vfio_pci_bind, vfio_pci_unbind } from '../../drivers/vfio/vfio_main.js';
import {
  VFIO_API_VERSION, VFIO_CHECK_EXTENSION, VFIO_DEVICE_FLAGS_PCI, VFIO_DEVICE_GET_INFO, VFIO_DEVICE_GET_REGION_INFO,
  VFIO_DMA_MAP_SIZE, VFIO_GET_API_VERSION, VFIO_GROUP_FLAGS_CONTAINER_SET, VFIO_GROUP_FLAGS_VIABLE,
  VFIO_GROUP_GET_DEVICE_FD, VFIO_GROUP_GET_STATUS, VFIO_GROUP_SET_CONTAINER, VFIO_GROUP_UNSET_CONTAINER,
  VFIO_IOMMU_MAP_DMA, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU,
} from '../../include/uapi/linux/vfio.js';
import { O_RDWR, sys_close, sys_open } from '../../fs/open.js';
import { sys_ioctl } from '../../fs/ioctl.js';
import { sys_pread64 } from '../../fs/read_write.js';
import { cred_su } from '../../kernel/cred.js';
import { EACCES, EBADF, EBUSY, EEXIST, EFAULT, EINVAL, ENODEV, ENOENT, EPERM } from '../../kernel/errno.js';
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

t.test("VFIO's descriptors: the VMM's path, bad ioctls, privilege", (t) => {
  const rig = bootKernel({ ...SMALL, seed: 11 });
  const vmm = fork(rig.init);
  const user = fork(rig.init);
  t.equal(cred_su(user.cred, 1000), 0);
  const pdev = pci_get_slot(0, SID)!;
  t.equal(as(user, () => vfio_pci_bind(pdev)), -EPERM, 'only root binds a device to vfio-pci');
  t.not(get_disk('vda'), null, '...and nothing changed');
  const group = as(vmm, () => vfio_pci_bind(pdev));
  t.equal(group, 1, 'the IOMMU group of 00:03.0');
  t.equal(as(vmm, () => vfio_pci_bind(pdev)), -EBUSY);
  t.equal(as(user, () => sys_open('/dev/vfio/1', O_RDWR)), -EACCES, '/dev/vfio/1 is 0600 root');

  const io = (fd: number, cmd: number, arg?: unknown): number => Number(as(vmm, () => sys_ioctl(fd, cmd, arg)));
  const ct = as(vmm, () => sys_open('/dev/vfio/vfio', O_RDWR));
  const ct2 = as(user, () => sys_open('/dev/vfio/vfio', O_RDWR));
  t.ok(ct >= 0 && ct2 >= 0, 'the container node is 0666');
  t.equal(io(ct, VFIO_GET_API_VERSION), VFIO_API_VERSION);
  t.equal(io(ct, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU), 1);
  t.equal(io(ct, VFIO_CHECK_EXTENSION, 99), 0);
  t.equal(io(ct, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), -EINVAL, 'SET_IOMMU before a group');
  const gfd = as(vmm, () => sys_open('/dev/vfio/1', O_RDWR));
  t.equal(as(vmm, () => sys_open('/dev/vfio/1', O_RDWR)), -EBUSY, 'one opener of a group');
  const st = { argsz: 8, flags: 0 };
  t.equal(io(gfd, VFIO_GROUP_GET_STATUS, st), 0);
  t.equal(st.flags, VFIO_GROUP_FLAGS_VIABLE, 'viable, no container');
  t.equal(io(gfd, VFIO_GROUP_GET_DEVICE_FD, '0000:00:03.0'), -EINVAL, 'no device fd before the IOMMU is set');
  t.equal(io(gfd, VFIO_GROUP_SET_CONTAINER, 999), -EBADF);
  t.equal(io(gfd, VFIO_GROUP_SET_CONTAINER, gfd), -EINVAL, 'not a container');
  t.equal(io(gfd, VFIO_GROUP_SET_CONTAINER, ct), 0);
  t.equal(io(ct, VFIO_SET_IOMMU, 7), -EINVAL, 'unknown IOMMU type');
  t.equal(io(ct, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), 0);
  t.equal(io(gfd, VFIO_GROUP_GET_STATUS, st), 0);
  t.equal(st.flags, VFIO_GROUP_FLAGS_VIABLE | VFIO_GROUP_FLAGS_CONTAINER_SET);

  const ram = as(vmm, () => sys_mmap(0, RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS));
  const map = (o: Record<string, unknown>): number => io(ct, VFIO_IOMMU_MAP_DMA, { argsz: VFIO_DMA_MAP_SIZE, flags: 3, vaddr: ram, iova: 0, size: RAM, ...o });
  const bad: [Record<string, unknown>, number, string][] = [
    [{ argsz: 8 }, -EINVAL, 'argsz too small'], [{ flags: 8 }, -EINVAL, 'unknown flag'], [{ flags: 0 }, -EINVAL, 'neither read nor write'],
    [{ vaddr: ram + 1 }, -EINVAL, 'unaligned vaddr'], [{ size: 0 }, -EINVAL, 'size 0'], [{ iova: -4096 }, -EFAULT, 'negative iova'],
    [{ vaddr: 0x1000 }, -EFAULT, 'vaddr not mapped'],
  ];
  for (const [o, want, what] of bad) t.equal(map(o), want, what);
  t.equal(io(ct, VFIO_IOMMU_MAP_DMA, 'x'), -EFAULT, 'not a structure');
  t.equal(rig.machine.dma.read(SID, 0, new Uint8Array(4)), 'fault', 'bad maps mapped nothing');
  t.equal(map({}), 0);
  t.equal(map({}), -EEXIST, 'overlap');
  t.equal(rig.machine.dma.read(SID, 0x2000, new Uint8Array(4)), 'ok', 'IOVA = GPA mapped');

  t.equal(io(gfd, VFIO_GROUP_GET_DEVICE_FD, '0000:00:04.0'), -ENODEV);
  const dfd = io(gfd, VFIO_GROUP_GET_DEVICE_FD, '0000:00:03.0');
  t.ok(dfd >= 0);
  const info = { argsz: 16, flags: 0, num_regions: 0, num_irqs: 0 };
  t.equal(io(dfd, VFIO_DEVICE_GET_INFO, info), 0);
  t.same(info, { argsz: 16, flags: VFIO_DEVICE_FLAGS_PCI, num_regions: 9, num_irqs: 5 });
  const reg = (index: number): Record<string, number> => { const r = { argsz: 32, flags: 0, index, size: 0, offset: 0 }; io(dfd, VFIO_DEVICE_GET_REGION_INFO, r); return r; };
  t.same(reg(0), { argsz: 32, flags: 3, index: 0, size: 4096, offset: 0 }, 'BAR0: 4 KiB');
  t.same(reg(7), { argsz: 32, flags: 3, index: 7, size: 256, offset: 7 * 2 ** 40 }, 'config space');
  t.equal(reg(1).size, 0, 'no BAR1');
  t.equal(io(dfd, VFIO_DEVICE_GET_REGION_INFO, { argsz: 32, index: 9 }), -EINVAL);
  const w = new Uint8Array(4);
  t.equal(as(vmm, () => sys_pread64(dfd, w, 7 * 2 ** 40)), 4);
  t.same(w, new Uint8Array([0xf4, 0x1a, 0x01, 0x10]), 'config dword 0: 1af4:1001');
  t.equal(as(vmm, () => sys_pread64(dfd, w, 0x000)), 4);
  t.equal(new DataView(w.buffer).getUint32(0, true), 0x74726976, "BAR0 offset 0: virtio-mmio's MagicValue 'virt'");
  t.equal(as(vmm, () => sys_pread64(dfd, w, 4096)), -EINVAL, 'beyond BAR0');
  t.equal(as(vmm, () => sys_pread64(dfd, new Uint8Array(2), 0)), -EINVAL, 'not a 32-bit access');
  t.equal(as(vmm, () => sys_pread64(dfd, w, 2 ** 40)), -EINVAL, 'BAR1 does not exist');
  t.equal(io(gfd, VFIO_GROUP_UNSET_CONTAINER), -EBUSY, 'a device fd is open');
  t.equal(vfio_pci_unbind(group), -EBUSY, 'cannot unbind while open');

  // Closing: the container's release unmaps (IOTLB invalidated) and unpins.
  for (const fd of [dfd, gfd, ct, ct2]) as(fd === ct2 ? user : vmm, () => sys_close(fd));
  t.equal(rig.machine.dma.read(SID, 0x2000, new Uint8Array(4)), 'fault', 'unmapped on close');
  t.equal(vfio_pci_unbind(group), 0);
  t.not(get_disk('vda'), null, 'the host driver has the disk again');
  t.equal(as(vmm, () => sys_open('/dev/vfio/1', O_RDWR)), -ENOENT, 'the group node is gone');
  t.end();
});
