/**
 * What the host can hold: a machine whose memory the host cannot back is refused
 * before it is built, with a message naming the limit, instead of growing the host
 * process until the host runs out.
 *
 * DRAM and NVRAM are sparse (a frame costs host memory only once written), but the
 * kernel keeps PAGE_META_BYTES of metadata per 4 KiB page in typed arrays (mm/page.ts)
 * for all of them, from boot. That must fit in half of the host's RAM (os.totalmem()),
 * leaving room for the frames actually used, the page tables and the host itself.
 * The limit depends on the host; on a machine that fits, nothing here changes output.
 */
import { totalmem } from 'node:os';
import type { MachineConfig } from '../../arch/x86/hw/config.js';

/** Bytes of kernel metadata per page (flags, order, KeyID, refcount, free-list links). */
export const PAGE_META_BYTES = 16;
const PAGE_SIZE = 4096;

function fmt(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[u]}`;
}

/** null if the host can hold `cfg`, else the reason, naming the limit. */
export function host_limit_error(cfg: MachineConfig, hostBytes = totalmem()): string | null {
  const memory = cfg.packages * cfg.memPerNode + cfg.nvramSize;
  const meta = (memory / PAGE_SIZE) * PAGE_META_BYTES;
  const budget = Math.floor(hostBytes / 2);
  if (meta <= budget) return null;
  return `${fmt(memory)} of memory (${cfg.packages} node${cfg.packages === 1 ? '' : 's'} x ${fmt(cfg.memPerNode)}` +
    `${cfg.nvramSize ? ` + ${fmt(cfg.nvramSize)} NVRAM` : ''}) needs ${fmt(meta)} of host memory for page ` +
    `metadata (${PAGE_META_BYTES} bytes per 4 KiB page); this host allows at most ${fmt(budget)} ` +
    `(half of its ${fmt(hostBytes)} of RAM), i.e. about ${fmt((budget / PAGE_META_BYTES) * PAGE_SIZE)} of machine memory`;
}
