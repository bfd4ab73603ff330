/**
 * Block device files (Linux block/fops.c def_blk_fops, block/bdev.c): /dev/vdX nodes
 * (S_IFBLK, root:disk 0660 as udev makes them) whose read and write go through a
 * KeyID-0 kernel page the disk DMAs into or out of (the page cache's role), so any
 * offset and length work; whole-sector direct I/O into a process's own pages is the
 * `blk` tool's O_DIRECT path. Opening checks DAC on the node, as for every file.
 */
import { page_address } from '../arch/x86/include/asm/page.js';
import { memcpy_fromio, memcpy_toio } from '../arch/x86/include/asm/processor.js';
import { blkdev_direct_io, REQ_OP_READ, REQ_OP_WRITE, SECTOR_SIZE, type gendisk } from '../drivers/block/genhd.js';
import { EINVAL, ENOMEM, ENXIO } from '../kernel/errno.js';
import { GFP_KERNEL, __free_pages, alloc_pages } from '../mm/page_alloc.js';
import { devtmpfs_create_node, devtmpfs_delete_node } from './devtmpfs.js';
import { MKDEV, S_IFBLK, SEEK_CUR, SEEK_END, SEEK_SET, type file, type file_operations, type inode } from './file.js';

/** The first dynamic block major Linux hands out (virtblk usually gets 252-254). */
export const VIRTBLK_MAJOR = 254;
/** The "disk" group. */
const GID_DISK = 6;
const PAGE = 4096;

let bdevs = new Map<number, gendisk>();

export function bdev_init(): void { bdevs = new Map(); }

/** The disk's device node: /dev/NAME for (major, minor). 0 or -errno. */
export function bdev_add(d: gendisk, major: number, minor: number): number {
  bdevs.set(MKDEV(major, minor), d);
  return devtmpfs_create_node(`/dev/${d.disk_name}`, major, minor, 0o660, 0, GID_DISK, S_IFBLK);
}

/** The node goes with the disk. */
export function bdev_del(d: gendisk): void {
  for (const [dev, x] of bdevs) if (x === d) bdevs.delete(dev);
  devtmpfs_delete_node(`/dev/${d.disk_name}`);
}

export function blkdev_open(inode: inode, f: file): number {
  const d = bdevs.get(inode.i_rdev);
  if (!d) return -ENXIO;
  f.f_op = def_blk_fops;
  f.private_data = d;
  return 0;
}

/** Move [pos, pos+buf.length) through a bounce page, sector-aligned chunks; the count or -errno. */
function blkdev_rw(f: file, buf: Uint8Array, pos: number, write: boolean): number {
  const d = f.private_data as gendisk;
  const size = d.capacity * SECTOR_SIZE;
  if (!Number.isSafeInteger(pos) || pos < 0) return -EINVAL;
  if (pos >= size) return 0; // end of device (a write there is -ENOSPC in Linux; 0 here is a short write)
  const len = Math.min(buf.length, size - pos);
  const pfn = alloc_pages(GFP_KERNEL, 0);
  if (pfn < 0) return -ENOMEM;
  const va = page_address(pfn);
  try {
    let done = 0;
    while (done < len) {
      const at = pos + done;
      const start = at - (at % PAGE);
      const chunk = Math.min(PAGE, size - start);
      const vec = [{ pfn, offset: 0, len: chunk }];
      const sector = start / SECTOR_SIZE;
      const off = at - start;
      const n = Math.min(len - done, chunk - off);
      if (!write || off || n < chunk) {
        const r = blkdev_direct_io(d, REQ_OP_READ, sector, vec);
        if (r < 0) return done || r;
      }
      if (write) {
        memcpy_toio(va + off, buf.subarray(done, done + n));
        const r = blkdev_direct_io(d, REQ_OP_WRITE, sector, vec);
        if (r < 0) return done || r;
      } else {
        memcpy_fromio(va + off, buf.subarray(done, done + n));
      }
      done += n;
    }
    return done;
  } finally {
    __free_pages(pfn, 0);
  }
}

export const def_blk_fops: file_operations = {
  read: (f, buf, pos) => blkdev_rw(f, buf, pos, false),
  write: (f, buf, pos) => blkdev_rw(f, buf, pos, true),
  llseek(f, offset, whence) {
    const size = (f.private_data as gendisk).capacity * SECTOR_SIZE;
    const base = whence === SEEK_SET ? 0 : whence === SEEK_CUR ? f.f_pos : whence === SEEK_END ? size : NaN;
    const p = base + offset;
    if (!Number.isSafeInteger(p) || p < 0) return -EINVAL;
    f.f_pos = p;
    return p;
  },
};
