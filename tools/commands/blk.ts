/**
 * blk: direct I/O between a disk and the current process's memory, the way
 * read(2)/write(2) on /dev/vda opened with O_DIRECT work: the process's pages are
 * pinned (get_user_pages) and the device DMAs into or out of them, under their own
 * KeyID (an IOMMU leaf carrying it, or a bus address with it, or a swiotlb bounce
 * for a device that cannot name KeyIDs). The kernel never copies the data.
 *
 *   blk read SECTOR LEN ADDR      disk -> memory (device writes the pages)
 *   blk write SECTOR ADDR LEN     memory -> disk
 *   blk inject unmapped|readonly  the disk's next request emits a stray DMA (an IOVA
 *                                 nothing maps, or the read-only request header), to
 *                                 watch the IOMMU block it
 *   blk list                      disks and capacities
 *   -d vdX                        the disk (default vda)
 *
 * O_DIRECT's rules: ADDR and LEN multiples of 512, else EINVAL; a buffer not mapped
 * with the needed access gives EFAULT; a range beyond the disk gives EIO. The command
 * opens /dev/vdX through the fd layer first (root:disk 0660, so others get EACCES),
 * then hands the pinned pages to the block layer: the fd layer's read(2) takes a
 * kernel buffer, so the zero-copy path cannot go through it.
 */
import { blkdev_direct_io, get_disks, REQ_OP_READ, REQ_OP_WRITE, type bio_vec, type gendisk } from '../../drivers/block/genhd.js';
import { O_RDONLY, O_RDWR } from '../../fs/file.js';
import { sys_close, sys_open } from '../../fs/open.js';
import { fdget } from '../../fs/read_write.js';
import { virtio_blk_devices } from '../../drivers/block/virtio_blk.js';
import { EINVAL, strerror } from '../../kernel/errno.js';
import { get_user_pages, unpin_user_pages } from '../../mm/gup.js';
import { CommandError, UsageError, type Command } from '../registry.js';
import type { KernelShellContext } from '../context.js';
import { as_task, parse_addr, parse_len, shell_task } from '../lib/process.js';
import { INJECT_IOVA } from '../../arch/x86/hw/virtio_blk.js';

const PAGE = 4096;
const MAX_IO = 1 << 20;

function direct_io(ctx: KernelShellContext, disk: string, op: number, sector: number, addr: number, len: number): void {
  const tsk = shell_task(ctx);
  if (len > MAX_IO) throw new UsageError(`LEN: at most ${MAX_IO} bytes`);
  const first = addr - (addr % PAGE);
  const pages = Math.ceil((addr + len - first) / PAGE);
  const ret = as_task(ctx, () => {
    // open("/dev/vdX", O_RDWR | O_DIRECT): the node's DAC check, then the disk behind it.
    const fd = sys_open(`/dev/${disk}`, op === REQ_OP_READ ? O_RDONLY : O_RDWR);
    if (fd < 0) return fd;
    const d = fdget(fd)?.private_data as gendisk;
    sys_close(fd);
    if (addr % 512 || len % 512 || len === 0) return -EINVAL;
    const pfns = get_user_pages(tsk.mm!, first, pages, op === REQ_OP_READ);
    if (typeof pfns === 'number') return pfns;
    const vecs: bio_vec[] = [];
    for (let done = 0; done < len;) {
      const at = addr + done;
      const n = Math.min(len - done, PAGE - (at % PAGE));
      vecs.push({ pfn: pfns[Math.floor((at - first) / PAGE)], offset: at % PAGE, len: n });
      done += n;
    }
    try {
      return blkdev_direct_io(d, op, sector, vecs);
    } finally {
      unpin_user_pages(pfns);
    }
  });
  if (ret < 0) throw new CommandError(strerror(ret));
}

export const blkCommand: Command<KernelShellContext> = {
  name: 'blk',
  usage: 'blk [-d vdX] read SECTOR LEN ADDR | write SECTOR ADDR LEN | inject unmapped|readonly|none | list',
  summary: 'direct (O_DIRECT-style) DMA between a disk and the current process\'s memory',
  run(ctx, args, io) {
    let disk = 'vda';
    let a = args;
    if (a[0] === '-d') {
      if (a.length < 2) throw new UsageError('-d needs a disk name');
      disk = a[1];
      a = a.slice(2);
    }
    const [sub, ...rest] = a;
    const num = (s: string | undefined, what: string): number => {
      if (s === undefined) throw new UsageError(`missing ${what}`);
      return what === 'LEN' ? parse_len(s) : parse_addr(s, what);
    };
    switch (sub) {
      case 'read': case 'write': {
        if (rest.length !== 3) throw new UsageError(sub === 'read' ? 'blk read SECTOR LEN ADDR' : 'blk write SECTOR ADDR LEN');
        const sector = num(rest[0], 'SECTOR');
        const len = num(sub === 'read' ? rest[1] : rest[2], 'LEN');
        const addr = num(sub === 'read' ? rest[2] : rest[1], 'ADDR');
        direct_io(ctx, disk, sub === 'read' ? REQ_OP_READ : REQ_OP_WRITE, sector, addr, len);
        io.out(`${len} bytes ${sub === 'read' ? 'read from' : 'written to'} ${disk} at sector ${sector}\n`);
        return 0;
      }
      case 'inject': {
        if (rest.length !== 1 || !['unmapped', 'readonly', 'none'].includes(rest[0])) {
          throw new UsageError('blk inject unmapped|readonly|none');
        }
        const vb = virtio_blk_devices().find((v) => v.disk.disk_name === disk);
        const hw = vb && ctx.machine ? ctx.machine.disks.find((x) => x.pci.sid === ((vb.pdev.bus << 8) | vb.pdev.devfn)) : undefined;
        if (!hw) throw new CommandError(`${disk}: ${strerror(-6)}`);
        hw.inject = rest[0] as 'unmapped' | 'readonly' | 'none';
        io.out(rest[0] === 'none' ? `${disk}: no injection\n` : rest[0] === 'unmapped'
          ? `${disk}: the next request's first data DMA goes to 0x${INJECT_IOVA.toString(16)}\n`
          : `${disk}: the next request's status is written to its read-only header\n`);
        return 0;
      }
      case 'list':
        for (const d of get_disks()) io.out(`${d.disk_name} ${d.capacity} sectors (${d.capacity * 512} bytes)\n`);
        return 0;
      default:
        throw new UsageError(sub === undefined ? '' : `unknown subcommand '${sub}'`);
    }
  },
};
