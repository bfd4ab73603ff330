/**
 * The virtio block driver (Linux drivers/block/virtio_blk.c on drivers/virtio/
 * virtio_ring.c and the virtio-pci transport), for this board's virtio-blk PCI
 * function whose BAR0 holds virtio-mmio-layout registers (see the device's header).
 *
 * probe: enable memory decoding and bus mastering, map BAR0, reset, ACKNOWLEDGE |
 *   DRIVER, negotiate VIRTIO_F_VERSION_1 and VIRTIO_F_ACCESS_PLATFORM (the device
 *   DMAs through the platform's DMA API, i.e. the IOMMU), FEATURES_OK, one split
 *   virtqueue in dma_alloc_coherent memory, DRIVER_OK, and a gendisk vdX.
 * request: header (DMA_TO_DEVICE: read-only to the device under an IOMMU), the data
 *   pages (their KeyID goes into the IOVA's leaf entry, or into the bus address
 *   with dma-direct), a status byte (DMA_FROM_DEVICE); one descriptor chain, the
 *   doorbell, then completion from the used ring. The board has no interrupt
 *   controller yet: completion is polled right after the doorbell (the device
 *   completes synchronously), and the IOMMU's fault handler runs there too.
 * errors: status IOERR/UNSUPP -> -EIO/-EOPNOTSUPP; no completion or DEVICE_NEEDS_RESET
 *   -> the device is reset and set up again, -EIO.
 * Every mapping is unmapped before the request returns (strict IOTLB invalidation),
 * so the pages may be freed at once.
 */
import { memset_io, readl, writel } from '../../arch/x86/include/asm/processor.js';
import { page_address } from '../../arch/x86/include/asm/page.js';
import { pr_info } from '../../kernel/printk.js';
import {
  DMA_FROM_DEVICE, DMA_TO_DEVICE, dma_mapping_error, dma_alloc_coherent, dma_map_page, dma_map_single,
  dma_free_coherent, dma_set_mask_and_coherent, dma_unmap_page, type dma_coherent,
} from '../../kernel/dma/mapping.js';
import { GFP_KERNEL, __GFP_ZERO, __free_pages, alloc_pages } from '../../mm/page_alloc.js';
import { dev_err, dev_info } from '../base/core.js';
import { dmar_fault_poll } from '../iommu/intel/dmar.js';
import {
  pci_enable_device_mem, pci_iomap, pci_register_driver, pci_restore_state, pci_save_state, pci_set_master, type pci_dev,
} from '../pci/pci.js';
import { REQ_OP_READ, add_disk, del_gendisk, type bio_vec, type gendisk } from './genhd.js';
import { bdev_add, bdev_del, VIRTBLK_MAJOR } from '../../fs/block_dev.js';
import { register_device_resume, type syscore_ops } from '../base/syscore.js';

const VIRTIO_MMIO_MAGIC = 0x74726976;
const R = {
  MAGIC: 0x000, VERSION: 0x004, DEVICE_ID: 0x008, DEV_FEATURES: 0x010, DEV_FEATURES_SEL: 0x014,
  DRV_FEATURES: 0x020, DRV_FEATURES_SEL: 0x024, QUEUE_SEL: 0x030, QUEUE_NUM_MAX: 0x034, QUEUE_NUM: 0x038,
  QUEUE_READY: 0x044, QUEUE_NOTIFY: 0x050, ISR: 0x060, ISR_ACK: 0x064, STATUS: 0x070,
  DESC_LO: 0x080, DESC_HI: 0x084, AVAIL_LO: 0x090, AVAIL_HI: 0x094, USED_LO: 0x0a0, USED_HI: 0x0a4,
  DMA_BITS: 0x0f8, CAPACITY_LO: 0x100, CAPACITY_HI: 0x104,
};
const S_ACKNOWLEDGE = 1, S_DRIVER = 2, S_DRIVER_OK = 4, S_FEATURES_OK = 8, S_NEEDS_RESET = 64;
const VIRTIO_F_VERSION_1_HI = 1, VIRTIO_F_ACCESS_PLATFORM_HI = 2;
const VIRTQ_DESC_F_NEXT = 1, VIRTQ_DESC_F_WRITE = 2;
const VIRTIO_BLK_T_IN = 0, VIRTIO_BLK_T_OUT = 1;
const QUEUE_NUM = 128;
const PAGE = 4096;

export interface virtio_blk {
  pdev: pci_dev;
  name: string;
  regs: number;
  ring: dma_coherent | null;
  num: number;
  avail_idx: number;
  last_used: number;
  /** KeyID-0 page holding the request header (offset 0) and status byte (offset 16). */
  req_va: number;
  req_pfn: number;
  disk: gendisk;
  /** Requests completed / failed, for tests and the bench. */
  done: number;
  errors: number;
}

let devices: virtio_blk[] = [];
export function virtio_blk_devices(): readonly virtio_blk[] { return devices; }

function rd(vb: virtio_blk, off: number): number { return readl(vb.regs + off) >>> 0; }
function wr(vb: virtio_blk, off: number, v: number): void { writel(vb.regs + off, v >>> 0); }
function lo32(n: number): number { return n % 2 ** 32; }
function hi32(n: number): number { return Math.floor(n / 2 ** 32); }

/** Offsets of the split ring's parts in the coherent page (virtio 1.1 §2.6). */
function ring_layout(num: number): { desc: number; avail: number; used: number } {
  const avail = 16 * num;
  const used = Math.ceil((avail + 6 + 2 * num) / 4) * 4;
  return { desc: 0, avail, used };
}

/** Reset the device and set up the virtqueue again (probe and error recovery). 0 or -errno. */
function virtblk_setup(vb: virtio_blk): number {
  wr(vb, R.STATUS, 0);
  wr(vb, R.STATUS, S_ACKNOWLEDGE | S_DRIVER);
  wr(vb, R.DEV_FEATURES_SEL, 1);
  const hi = rd(vb, R.DEV_FEATURES);
  if (!(hi & VIRTIO_F_VERSION_1_HI)) { dev_err(vb.pdev.dev, 'virtio: device lacks VIRTIO_F_VERSION_1'); return -19; }
  wr(vb, R.DRV_FEATURES_SEL, 0);
  wr(vb, R.DRV_FEATURES, 0);
  wr(vb, R.DRV_FEATURES_SEL, 1);
  wr(vb, R.DRV_FEATURES, hi & (VIRTIO_F_VERSION_1_HI | VIRTIO_F_ACCESS_PLATFORM_HI));
  wr(vb, R.STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK);
  if (!(rd(vb, R.STATUS) & S_FEATURES_OK)) return -19;
  wr(vb, R.QUEUE_SEL, 0);
  vb.num = Math.min(QUEUE_NUM, rd(vb, R.QUEUE_NUM_MAX));
  if (vb.num === 0) return -2;
  wr(vb, R.QUEUE_NUM, vb.num);
  if (!vb.ring) {
    vb.ring = dma_alloc_coherent(vb.pdev.dev, PAGE);
    if (!vb.ring) return -12;
  }
  memset_io(vb.ring.cpu_addr, 0, PAGE); // a fresh ring (after a reset: the old one forgotten)
  const l = ring_layout(vb.num);
  const base = vb.ring.dma_handle;
  wr(vb, R.DESC_LO, lo32(base + l.desc)); wr(vb, R.DESC_HI, hi32(base + l.desc));
  wr(vb, R.AVAIL_LO, lo32(base + l.avail)); wr(vb, R.AVAIL_HI, hi32(base + l.avail));
  wr(vb, R.USED_LO, lo32(base + l.used)); wr(vb, R.USED_HI, hi32(base + l.used));
  wr(vb, R.QUEUE_READY, 1);
  vb.avail_idx = vb.last_used = 0;
  wr(vb, R.STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
  return 0;
}

function write_desc(vb: virtio_blk, i: number, addr: number, len: number, flags: number, next: number): void {
  const p = vb.ring!.cpu_addr + 16 * i;
  writel(p, lo32(addr)); writel(p + 4, hi32(addr)); writel(p + 8, len); writel(p + 12, (flags | (next << 16)) >>> 0);
}

/** Store a 16-bit value in the ring (a read-modify-write of its 32-bit word). */
function write16(va: number, v: number): void {
  const w = va - (va % 4);
  const shift = (va % 4) * 8;
  writel(w, ((readl(w) & ~(0xffff << shift)) | ((v & 0xffff) << shift)) >>> 0);
}

/** One request: header, data pieces, status; 0 or -errno. */
function virtblk_submit(vb: virtio_blk, op: number, sector: number, vecs: bio_vec[]): number {
  const dev = vb.pdev.dev;
  const hdr = new Uint8Array(17);
  const hv = new DataView(hdr.buffer);
  hv.setUint32(0, op === REQ_OP_READ ? VIRTIO_BLK_T_IN : VIRTIO_BLK_T_OUT, true);
  hv.setUint32(8, lo32(sector), true);
  hv.setUint32(12, hi32(sector), true);
  hdr[16] = 0xff; // status, until the device writes it
  for (let o = 0; o < 16; o += 4) writel(vb.req_va + o, hv.getUint32(o, true));
  writel(vb.req_va + 16, 0xff);

  const maps: { addr: number; size: number; dir: number }[] = [];
  const unmap_all = (): void => { for (const m of maps) dma_unmap_page(dev, m.addr, m.size, m.dir); };
  const map = (addr: number, size: number, dir: number): number => {
    if (!dma_mapping_error(dev, addr)) maps.push({ addr, size, dir });
    return addr;
  };
  const h = map(dma_map_single(dev, vb.req_va, 16, DMA_TO_DEVICE), 16, DMA_TO_DEVICE);
  const dataDir = op === REQ_OP_READ ? DMA_FROM_DEVICE : DMA_TO_DEVICE;
  const data = vecs.map((v) => map(dma_map_page(dev, v.pfn, v.offset, v.len, dataDir), v.len, dataDir));
  const st = map(dma_map_single(dev, vb.req_va + 16, 1, DMA_FROM_DEVICE), 1, DMA_FROM_DEVICE);
  if (dma_mapping_error(dev, h) || dma_mapping_error(dev, st) || data.some((a) => dma_mapping_error(dev, a))) {
    unmap_all();
    return -12;
  }

  const n = vecs.length + 2;
  write_desc(vb, 0, h, 16, VIRTQ_DESC_F_NEXT, 1);
  vecs.forEach((v, k) => write_desc(vb, 1 + k, data[k], v.len,
    VIRTQ_DESC_F_NEXT | (op === REQ_OP_READ ? VIRTQ_DESC_F_WRITE : 0), 2 + k));
  write_desc(vb, n - 1, st, 1, VIRTQ_DESC_F_WRITE, 0);
  const l = ring_layout(vb.num);
  const ring = vb.ring!.cpu_addr;
  write16(ring + l.avail + 4 + 2 * (vb.avail_idx % vb.num), 0);
  vb.avail_idx = (vb.avail_idx + 1) & 0xffff;
  write16(ring + l.avail + 2, vb.avail_idx);
  wr(vb, R.QUEUE_NOTIFY, 0); // the doorbell

  // "Interrupt": the used ring, the ISR, the IOMMU's fault status.
  const used = (readl(ring + l.used) >>> 16) & 0xffff;
  const isr = rd(vb, R.ISR);
  if (isr) wr(vb, R.ISR_ACK, isr);
  dmar_fault_poll();
  const status = readl(vb.req_va + 16) & 0xff;
  unmap_all();
  if (used !== ((vb.last_used + 1) & 0xffff) || rd(vb, R.STATUS) & S_NEEDS_RESET) {
    dev_err(dev, `${vb.name}: request not completed (device status 0x${rd(vb, R.STATUS).toString(16)}): resetting the device`);
    vb.errors++;
    virtblk_setup(vb);
    return -5;
  }
  vb.last_used = used;
  vb.done++;
  if (status === 0) return 0;
  vb.errors++;
  return status === 2 ? -95 : -5;
}

function string_get_size(bytes: number, base: 1000 | 1024): string {
  const units = base === 1000 ? ['B', 'kB', 'MB', 'GB', 'TB'] : ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes, u = 0;
  while (v >= base && u < units.length - 1) { v /= base; u++; }
  const s = v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
  return `${s} ${units[u]}`;
}

function virtblk_probe(pdev: pci_dev): number {
  const dev = pdev.dev;
  pci_enable_device_mem(pdev);
  pci_set_master(pdev);
  const regs = pci_iomap(pdev, 0);
  if (!regs) return -12;
  const index = devices.length;
  const vb: virtio_blk = {
    pdev, name: `virtio${index}`, regs, ring: null, num: 0, avail_idx: 0, last_used: 0, req_va: 0, req_pfn: 0,
    disk: null as unknown as gendisk, done: 0, errors: 0,
  };
  if (rd(vb, R.MAGIC) !== VIRTIO_MMIO_MAGIC || rd(vb, R.VERSION) !== 2 || rd(vb, R.DEVICE_ID) !== 2) return -19;
  const bits = rd(vb, R.DMA_BITS) || 64;
  if (dma_set_mask_and_coherent(dev, bits) < 0) return -5;
  const pfn = alloc_pages(GFP_KERNEL | __GFP_ZERO, 0, 0, 0);
  if (pfn < 0) return -12;
  vb.req_pfn = pfn;
  vb.req_va = page_address(pfn);
  const ret = virtblk_setup(vb);
  if (ret < 0) return ret;
  const capacity = rd(vb, R.CAPACITY_LO) + rd(vb, R.CAPACITY_HI) * 2 ** 32;
  const name = `vd${String.fromCharCode(0x61 + index)}`;
  vb.disk = { disk_name: name, capacity, parent: `devices/pci0000:00/${dev.name}`,
    submit: (op, sector, vecs) => virtblk_submit(vb, op, sector, vecs) };
  devices.push(vb);
  if (bits < 64) dev_info(dev, `DMA mask ${bits} bits`);
  pr_info(`virtio_blk ${vb.name}: [${name}] ${capacity} 512-byte logical blocks (${string_get_size(capacity * 512, 1000)}/${string_get_size(capacity * 512, 1024)})`);
  add_disk(vb.disk);
  bdev_add(vb.disk, VIRTBLK_MAJOR, index * 16); // virtblk: 16 minors per disk
  pci_save_state(pdev);
  return 0;
}

/**
 * virtblk_restore (Linux drivers/block/virtio_blk.c, after virtio_device_restore): the
 * device was reset by S3. Restore its configuration space, then set the queue up again
 * on the same ring page; requests are synchronous here, so none was in flight.
 */
const virtblk_pm: syscore_ops = {
  resume(): void {
    for (const vb of devices) {
      pci_restore_state(vb.pdev);
      if (virtblk_setup(vb) < 0) dev_err(vb.pdev.dev, 'virtio: restore after resume failed');
    }
  },
};

/** virtblk_remove: the device is being taken away (unbind): reset it, drop the disk. */
export function virtblk_remove(pdev: pci_dev): void {
  const vb = devices.find((v) => v.pdev === pdev);
  if (!vb) return;
  wr(vb, R.STATUS, 0); // reset: the device forgets the queue
  bdev_del(vb.disk);
  del_gendisk(vb.disk);
  if (vb.ring) dma_free_coherent(pdev.dev, vb.ring);
  __free_pages(vb.req_pfn, 0);
  devices = devices.filter((v) => v !== vb);
  dev_info(pdev.dev, `${vb.name}: removed (${vb.disk.disk_name})`);
}

/** module_init(virtio_blk_init): bind to every virtio-blk PCI function. */
export function virtio_blk_init(): number {
  devices = [];
  register_device_resume(virtblk_pm);
  return pci_register_driver({
    name: 'virtio-pci',
    id_table: [{ vendor: 0x1af4, device: 0x1001 }],
    probe: (pdev) => virtblk_probe(pdev),
  });
}
