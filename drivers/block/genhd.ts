/**
 * Block devices (Linux block/genhd.c, blk-core.c, reduced to direct I/O): a gendisk
 * per disk, named vda, vdb, ... by its driver, with its capacity in 512-byte sectors
 * and a submit function that moves whole sectors between the disk and a list of
 * page pieces (bio_vecs) by DMA. The checks the block layer makes before a driver
 * sees a request, with Linux's words: whole sectors only, and nothing beyond the end
 * of the device ("attempt to access beyond end of device", -EIO).
 *
 * /sys/block/NAME/size gives the capacity in sectors, as in Linux. State per boot.
 */
import { proc_create, proc_remove } from '../../fs/proc/generic.js';
import { pr_err, pr_info } from '../../kernel/printk.js';

export const SECTOR_SIZE = 512;
export const REQ_OP_READ = 0, REQ_OP_WRITE = 1;
/** Pieces per request a driver accepts (its queue's max_segments). */
export const BLK_MAX_SEGMENTS = 32;

export interface bio_vec { pfn: number; offset: number; len: number }

export interface gendisk {
  disk_name: string;
  /** Sectors. */
  capacity: number;
  /** One request: 0 or -errno. The block layer has checked bounds and sizes. */
  submit(op: number, sector: number, vecs: bio_vec[]): number;
  /** Device path for /sys/block/NAME/device. */
  parent: string;
}

let disks: gendisk[] = [];

export function genhd_init(): void { disks = []; }
export function get_disks(): readonly gendisk[] { return disks; }
export function get_disk(name: string): gendisk | null { return disks.find((d) => d.disk_name === name) ?? null; }

/** device_add_disk. */
export function add_disk(d: gendisk): void {
  disks.push(d);
  proc_create(`/sys/block/${d.disk_name}/size`, () => `${d.capacity}\n`);
  proc_create(`/sys/block/${d.disk_name}/device`, () => `../../${d.parent}\n`);
}

/** del_gendisk: the disk is gone (its driver let go of the device). */
export function del_gendisk(d: gendisk): void {
  disks = disks.filter((x) => x !== d);
  proc_remove(`/sys/block/${d.disk_name}/size`);
  proc_remove(`/sys/block/${d.disk_name}/device`);
}

/**
 * Direct I/O: `op` on the sectors from `sector` to the bio_vecs (each a multiple of
 * 512 bytes), split into requests of at most BLK_MAX_SEGMENTS pieces.
 */
export function blkdev_direct_io(d: gendisk, op: number, sector: number, vecs: bio_vec[]): number {
  const bytes = vecs.reduce((n, v) => n + v.len, 0);
  if (!Number.isSafeInteger(sector) || sector < 0 || bytes % SECTOR_SIZE || vecs.some((v) => v.len % SECTOR_SIZE || v.len <= 0)) return -22;
  const nr = bytes / SECTOR_SIZE;
  if (sector + nr > d.capacity) {
    pr_info(`${d.disk_name}: attempt to access beyond end of device`);
    pr_info(`${d.disk_name}: rw=${op}, sector=${sector}, nr_sectors = ${nr} limit=${d.capacity}`);
    return -5;
  }
  let at = sector;
  for (let i = 0; i < vecs.length; i += BLK_MAX_SEGMENTS) {
    const part = vecs.slice(i, i + BLK_MAX_SEGMENTS);
    const ret = d.submit(op, at, part);
    if (ret < 0) {
      if (ret === -5) {
        pr_err(`I/O error, dev ${d.disk_name}, sector ${at} op 0x${op}:(${op ? 'WRITE' : 'READ'}) flags 0x0 phys_seg ${part.length} prio class 0`);
      }
      return ret;
    }
    at += part.reduce((n, v) => n + v.len, 0) / SECTOR_SIZE;
  }
  return 0;
}
