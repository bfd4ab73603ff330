/**
 * Miscellaneous character devices (Linux drivers/char/misc.c): drivers that need one
 * node share major 10 and register a minor, e.g. KVM's /dev/kvm (KVM_MINOR 232).
 *
 *   misc_register({ minor, name, fops, mode?, uid?, gid? })  -> 0, -EBUSY, -EINVAL
 *   misc_deregister(dev)
 *
 * The node is /dev/NAME with `mode` (default 0600, as devtmpfs gives), owner uid:gid.
 * The table is per kernel instance, emptied by misc_init() at boot.
 */
import { EBUSY, EINVAL, ENODEV } from '../../kernel/errno.js';
import { register_chrdev } from '../../fs/char_dev.js';
import { devtmpfs_create_node, devtmpfs_delete_node } from '../../fs/devtmpfs.js';
import { MINOR, type file_operations } from '../../fs/file.js';

export const MISC_MAJOR = 10;
export const KVM_MINOR = 232;
export const MISC_DYNAMIC_MINOR = 255;

export interface miscdevice {
  minor: number;
  name: string;
  fops: file_operations;
  /** The node's path under /dev when not NAME (Linux's .nodename, e.g. "vfio/vfio"). */
  nodename?: string;
  mode?: number;
  uid?: number;
  gid?: number;
}

let misc_list = new Map<number, miscdevice>();

/** misc_open: the registered device of the minor takes the open. */
const misc_fops: file_operations = {
  open(inode, file) {
    const dev = misc_list.get(MINOR(inode.i_rdev));
    if (!dev) return -ENODEV;
    file.f_op = dev.fops;
    file.private_data = dev;
    return dev.fops.open ? dev.fops.open(inode, file) : 0;
  },
};

/** misc_init (Linux: subsys_initcall): major 10, no devices yet. */
export function misc_init(): number {
  misc_list = new Map();
  return register_chrdev(MISC_MAJOR, 'misc', misc_fops);
}

/** misc_register: the device's node appears; a dynamic minor is picked from 254 down. */
export function misc_register(dev: miscdevice): number {
  if (!dev || !/^[a-z0-9_-]+$/.test(dev.name) || !Number.isInteger(dev.minor)) return -EINVAL;
  if (dev.minor === MISC_DYNAMIC_MINOR) {
    let m = 254;
    while (m >= 0 && misc_list.has(m)) m--;
    if (m < 0) return -EBUSY;
    dev.minor = m;
  }
  if (dev.minor < 0 || dev.minor > 255) return -EINVAL;
  if (misc_list.has(dev.minor)) return -EBUSY;
  const ret = devtmpfs_create_node(`/dev/${dev.nodename ?? dev.name}`, MISC_MAJOR, dev.minor, dev.mode ?? 0o600, dev.uid ?? 0, dev.gid ?? 0);
  if (ret < 0) return ret === -EINVAL ? ret : -EBUSY;
  misc_list.set(dev.minor, dev);
  return 0;
}

/** misc_deregister: the node goes away. */
export function misc_deregister(dev: miscdevice): void {
  if (misc_list.get(dev.minor) !== dev) return;
  misc_list.delete(dev.minor);
  devtmpfs_delete_node(`/dev/${dev.nodename ?? dev.name}`);
}
