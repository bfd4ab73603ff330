/**
 * Benchmark section "blk": direct I/O from the virtio disk into a process's memory.
 *
 *   blk_mb_s    4 KiB O_DIRECT-style reads (pin the page, map it in the IOMMU with its
 *               KeyID, one virtqueue request, unmap with IOTLB invalidation, unpin) into
 *               a buffer encrypted under a KeyID, the IOMMU translating
 *   blk_ratio   blk_mb_s over the same reads into a KeyID-0 buffer with the IOMMU in
 *               pass-through (iommu=pt): the price of translation and encryption. Goal >= 0.5.
 *
 * Only one kernel runs per process, so the two configurations alternate by rebooting:
 * each round boots one, runs a slice, boots the other, runs a slice; the ratio is the
 * median of the per-round ratios.
 */
import { makeConfig, MiB } from '../arch/x86/hw/config.js';
import { Machine } from '../arch/x86/hw/machine.js';
import { blkdev_direct_io, get_disk, REQ_OP_READ } from '../drivers/block/genhd.js';
import { start_kernel } from '../init/main.js';
import { add_key } from '../kernel/keys/syscalls.js';
import { KEY_SPEC_SESSION_KEYRING } from '../kernel/keys/uapi.js';
import { run_as, find_task_by_vpid } from '../kernel/sched.js';
import { get_user_pages, unpin_user_pages } from '../mm/gup.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE, sys_mmap } from '../mm/mmap.js';
import { sys_encrypt_mprotect } from '../mm/mprotect.js';
import { median, Meter, type Goals } from './types.js';

export const goals: Goals = { blk_ratio: { min: 0.5 } };

const PAGE = 4096;
const NPAGES = 64;

/** Boot, map NPAGES of buffer (encrypted or not), return one read step. */
function setup(encrypted: boolean): () => void {
  const m = new Machine(makeConfig({ memPerNode: 64 * MiB, nvramSize: 0, disks: [{ file: null, size: 4 * MiB, dmaBits: 64 }] }));
  start_kernel(m.bootParams(encrypted ? 'quiet' : 'quiet iommu=pt'), null);
  m.disks[0].medium.write(0, new Uint8Array(NPAGES * PAGE).fill(0xa5), 0, NPAGES * PAGE);
  const init = find_task_by_vpid(1)!;
  const disk = get_disk('vda')!;
  const va = run_as(init, () => {
    const a = sys_mmap(0, NPAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    if (encrypted) {
      const serial = add_key(init.cred, 'mktme', 'bench', new TextEncoder().encode('type=cpu algorithm=aes-xts-128'), KEY_SPEC_SESSION_KEYRING);
      if (serial < 0 || sys_encrypt_mprotect(a, NPAGES * PAGE, PROT_READ | PROT_WRITE, serial) < 0) {
        throw new Error('bench blk: could not encrypt the buffer');
      }
    }
    // Fault the buffer in now: the figure is about I/O, not first-touch page faults.
    const pinned = get_user_pages(init.mm!, a, NPAGES, true);
    if (typeof pinned === 'number') throw new Error('bench blk: could not fault the buffer in');
    unpin_user_pages(pinned);
    return a;
  });
  let i = 0;
  return () => {
    const at = va + (i % NPAGES) * PAGE;
    const ret = run_as(init, () => {
      const pfns = get_user_pages(init.mm!, at, 1, true) as number[];
      try { return blkdev_direct_io(disk, REQ_OP_READ, (i % NPAGES) * 8, [{ pfn: pfns[0], offset: 0, len: PAGE }]); }
      finally { unpin_user_pages(pfns); }
    });
    if (ret < 0) throw new Error(`bench blk: read failed ${ret}`);
    i++;
  };
}

export async function run(): Promise<Record<string, number>> {
  const enc = new Meter(() => step(), PAGE);
  const plain = new Meter(() => step(), PAGE);
  let step: () => void = () => undefined;
  const rounds = 7;
  for (let r = 0; r < rounds; r++) {
    step = setup(true);
    enc.run(40, true);
    enc.run(150);
    step = setup(false);
    plain.run(40, true);
    plain.run(150);
  }
  const ratios = enc.slices.map((s, k) => s / plain.slices[k]);
  return { blk_mb_s: Math.round(enc.mbPerS * 10) / 10, blk_ratio: Math.round(median(ratios) * 1000) / 1000 };
}
