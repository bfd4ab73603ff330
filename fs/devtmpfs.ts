/**
 * Device nodes under /dev (Linux drivers/base/devtmpfs.c, with the owner, group and
 * mode udev's default rules then give them): a path, a device number and
 * mode/uid/gid, the DAC facts sys_open checks before the driver sees the open.
 *
 *   devtmpfs_create_node('/dev/mem', 1, 1, 0o640, 0, KMEM_GID)
 *   devtmpfs_create_node('/dev/cpu/0/msr', 202, 0, 0o600)     (msr_devnode: "cpu/%u/msr")
 *
 * Directories are implied by the nodes' paths. The table is per kernel instance and
 * emptied at boot by devtmpfs_init().
 */
import { EEXIST, EINVAL, ENOENT, ENOTDIR } from '../kernel/errno.js';
import { MKDEV, S_IFCHR, S_IFDIR, type inode } from './file.js';
import { IS_ERR } from '../kernel/err.js';

/** Groups udev gives device nodes (Debian's /etc/group). */
export const KMEM_GID = 15;
export const KVM_GID = 104;

let nodes = new Map<string, inode>();

/** Boot: /dev is empty (Linux: devtmpfs_init from driver_init). */
export function devtmpfs_init(): void {
  nodes = new Map();
}

/** '/dev/x/../y' -> '/dev/y'; null for a path that is not under /dev. */
function dev_path(path: string): string | null {
  if (typeof path !== 'string' || !path.startsWith('/')) return null;
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop(); else out.push(part);
  }
  const p = '/' + out.join('/');
  return p === '/dev' || p.startsWith('/dev/') ? p : null;
}

/**
 * devtmpfs_create_node: a device node (character unless `type` is S_IFBLK) at `path` (under /dev) for
 * (major, minor) with permission bits `mode` and owner uid:gid. 0, -EEXIST or -EINVAL.
 */
export function devtmpfs_create_node(path: string, major: number, minor: number, mode: number,
  uid = 0, gid = 0, type = S_IFCHR): number {
  const p = dev_path(path);
  if (!p || p === '/dev' || !Number.isInteger(mode) || mode < 0 || mode > 0o7777) return -EINVAL;
  if (nodes.has(p)) return -EEXIST;
  nodes.set(p, { i_mode: type | mode, i_uid: uid, i_gid: gid, i_rdev: MKDEV(major, minor) });
  return 0;
}

/** devtmpfs_delete_node: remove the node at `path` (nothing if absent). */
export function devtmpfs_delete_node(path: string): void {
  const p = dev_path(path);
  if (p) nodes.delete(p);
}

/** Is `path` under /dev (so devtmpfs answers for it)? */
export function is_dev_path(path: string): boolean {
  return dev_path(path) !== null;
}

const DIR_INODE: inode = { i_mode: S_IFDIR | 0o755, i_uid: 0, i_gid: 0, i_rdev: 0 };

/** The inode at `path`: a node, an implied directory, -ENOENT, -ENOTDIR or -EINVAL. */
export function devtmpfs_lookup(path: string): inode | number {
  const p = dev_path(path);
  if (!p) return -EINVAL;
  const node = nodes.get(p);
  if (node) return node;
  if (p === '/dev') return DIR_INODE;
  for (const k of nodes.keys()) {
    if (k.startsWith(p + '/')) return DIR_INODE;
    if (p.startsWith(k + '/')) return -ENOTDIR;
  }
  return -ENOENT;
}

/** The names in directory `path`, sorted; or -ENOENT / -ENOTDIR. */
export function devtmpfs_readdir(path: string): string[] | number {
  const n = devtmpfs_lookup(path);
  if (IS_ERR(n)) return n;
  if (n !== DIR_INODE) return -ENOTDIR;
  const base = dev_path(path)! + '/';
  const names = new Set<string>();
  for (const k of nodes.keys()) if (k.startsWith(base)) names.add(k.slice(base.length).split('/')[0]);
  return [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
