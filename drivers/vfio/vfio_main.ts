/**
 * VFIO's file descriptors (Linux drivers/vfio/vfio_main.c, container.c, group.c,
 * vfio_iommu_type1.c, pci/vfio_pci_core.c): how a VMM reaches an assigned device.
 *
 *   /dev/vfio/vfio    the container, misc 10:196, 0666: VFIO_GET_API_VERSION,
 *                     VFIO_CHECK_EXTENSION, VFIO_SET_IOMMU (type1v2), VFIO_IOMMU_MAP_DMA /
 *                     VFIO_IOMMU_UNMAP_DMA (the VMM's memory into the group's domain)
 *   /dev/vfio/GROUP   one per IOMMU group bound to vfio-pci, 0600 root (so only root
 *                     assigns devices, by the DAC check of open(2)); opened once at a time:
 *                     VFIO_GROUP_GET_STATUS, VFIO_GROUP_SET_CONTAINER / UNSET_CONTAINER,
 *                     VFIO_GROUP_GET_DEVICE_FD("0000:00:03.0")
 *   device fd         VFIO_DEVICE_GET_INFO, VFIO_DEVICE_GET_REGION_INFO; pread/pwrite at
 *                     region offsets (index << 40, as vfio_pci_core's
 *                     VFIO_PCI_INDEX_TO_OFFSET): BARs as aligned 32-bit registers, config
 *                     space dwords (writes: only the command register's Bus Master bit)
 *
 * Binding (vfio_pci_bind) is the sysfs step an administrator or libvirt's managed mode
 * does (driver_override + drivers_probe); unbinding gives the function back to a host
 * driver, if one matches (libvirt's reattach). One group per container here: every
 * function on this board is its own IOMMU group. No interrupts: VFIO_PCI_NUM_IRQS are
 * reported, none can be set.
 */
import { misc_register } from '../char/misc.js';
import { register_chrdev } from '../../fs/char_dev.js';
import { anon_inode_getfile } from '../../fs/anon_inodes.js';
import { devtmpfs_create_node, devtmpfs_delete_node } from '../../fs/devtmpfs.js';
import { FMODE_PREAD, FMODE_PWRITE, MINOR, fd_install_lowest, fput, type file, type file_operations } from '../../fs/file.js';
import { fdget } from '../../fs/read_write.js';
import { EBADF, EBUSY, EFAULT, EINVAL, EMFILE, ENODEV, ENOTTY, EPERM } from '../../kernel/errno.js';
import { capable } from '../../kernel/capability.js';
import { CAP_SYS_ADMIN } from '../../include/linux/capability.js';
import { current } from '../../kernel/sched.js';
import {
  VFIO_API_VERSION, VFIO_CHECK_EXTENSION, VFIO_DEVICE_FLAGS_PCI, VFIO_DEVICE_GET_INFO, VFIO_DEVICE_GET_REGION_INFO,
  VFIO_DMA_MAP_FLAG_READ, VFIO_DMA_MAP_FLAG_WRITE, VFIO_DMA_MAP_SIZE, VFIO_DMA_UNMAP_SIZE, VFIO_GET_API_VERSION,
  VFIO_GROUP_FLAGS_CONTAINER_SET, VFIO_GROUP_FLAGS_VIABLE, VFIO_GROUP_GET_DEVICE_FD, VFIO_GROUP_GET_STATUS,
  VFIO_GROUP_SET_CONTAINER, VFIO_GROUP_UNSET_CONTAINER, VFIO_IOMMU_MAP_DMA, VFIO_IOMMU_UNMAP_DMA,
  VFIO_PCI_BAR5_REGION_INDEX, VFIO_PCI_CONFIG_REGION_INDEX, VFIO_PCI_NUM_IRQS, VFIO_PCI_NUM_REGIONS,
  VFIO_REGION_INFO_FLAG_READ, VFIO_REGION_INFO_FLAG_WRITE, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU, VFIO_TYPE1v2_IOMMU,
} from '../../include/uapi/linux/vfio.js';
import { PCI_COMMAND, PCI_COMMAND_MASTER, pci_device_attach, type pci_dev } from '../pci/pci.js';
import {
  vfio_assign_device, vfio_iommu_map_dma, vfio_iommu_unmap_dma, vfio_pci_bar_read, vfio_pci_bar_write,
  vfio_pci_config_read, vfio_pci_config_write_command, vfio_release, type vfio_container,
} from './vfio.js';

export const VFIO_MINOR = 196;
const OFFSET_SHIFT = 2 ** 40;
const CONFIG_SIZE = 256;

interface vfio_iommu { group: vfio_group | null; iommu: boolean }
interface vfio_group { id: number; c: vfio_container; opened: boolean; container: vfio_iommu | null; devices: number }

let group_major = 0;
let groups = new Map<number, vfio_group>();

const obj = (a: unknown): a is Record<string, unknown> => typeof a === 'object' && a !== null;
const num = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** The container node and the groups' character major (after misc_init). */
export function vfio_main_init(): number {
  groups = new Map();
  const major = register_chrdev(0, 'vfio', vfio_group_fops);
  if (major < 0) return major;
  group_major = major;
  return misc_register({ minor: VFIO_MINOR, name: 'vfio', nodename: 'vfio/vfio', fops: vfio_fops, mode: 0o666 });
}

/** Bind `pdev` to vfio-pci (the host driver lets go); /dev/vfio/GROUP appears. The group id, or -errno. */
export function vfio_pci_bind(pdev: pci_dev): number {
  if (!capable(CAP_SYS_ADMIN)) return -EPERM; // the sysfs files are root's
  const c = vfio_assign_device(pdev);
  if (typeof c === 'number') return c;
  const id = pdev.dev.iommu_group ?? -1;
  if (id < 0 || groups.has(id)) { vfio_release(c); return -EBUSY; }
  groups.set(id, { id, c, opened: false, container: null, devices: 0 });
  devtmpfs_create_node(`/dev/vfio/${id}`, group_major, id, 0o600);
  return id;
}

/** Unbind group `id` (no file of it may be open: -EBUSY); a host driver may take the function again. */
export function vfio_pci_unbind(id: number): number {
  const g = groups.get(id);
  if (!g) return -ENODEV;
  if (g.opened || g.devices) return -EBUSY;
  groups.delete(id);
  devtmpfs_delete_node(`/dev/vfio/${id}`);
  const pdev = g.c.pdev;
  vfio_release(g.c);
  pci_device_attach(pdev);
  return 0;
}

// --- the container ----------------------------------------------------------------------------

function container_unset(ct: vfio_iommu): void {
  const g = ct.group;
  if (!g) return;
  vfio_iommu_unmap_dma(g.c, 0, 2 ** 48); // every mapping: IOTLB invalidated, pages unpinned
  g.container = null;
  ct.group = null;
  ct.iommu = false;
}

const vfio_fops: file_operations = {
  open(_inode, file) { file.private_data = { group: null, iommu: false } satisfies vfio_iommu; return 0; },
  release(_inode, file) { container_unset(file.private_data as vfio_iommu); return 0; },
  unlocked_ioctl(file, cmd, arg) {
    const ct = file.private_data as vfio_iommu;
    switch (cmd) {
      case VFIO_GET_API_VERSION: return VFIO_API_VERSION;
      case VFIO_CHECK_EXTENSION: return arg === VFIO_TYPE1_IOMMU || arg === VFIO_TYPE1v2_IOMMU ? 1 : 0;
      case VFIO_SET_IOMMU:
        if (arg !== VFIO_TYPE1_IOMMU && arg !== VFIO_TYPE1v2_IOMMU) return -EINVAL;
        if (!ct.group || ct.iommu) return -EINVAL; // a group first, and only once
        ct.iommu = true;
        return 0;
      case VFIO_IOMMU_MAP_DMA: {
        if (!obj(arg) || !num(arg.argsz) || !num(arg.flags) || !num(arg.vaddr) || !num(arg.iova) || !num(arg.size)) return -EFAULT;
        if (arg.argsz < VFIO_DMA_MAP_SIZE || arg.flags & ~(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)) return -EINVAL;
        if (!ct.iommu || !ct.group) return -EINVAL;
        return vfio_iommu_map_dma(ct.group.c, current().mm!, arg.vaddr, arg.iova, arg.size, arg.flags);
      }
      case VFIO_IOMMU_UNMAP_DMA: {
        if (!obj(arg) || !num(arg.argsz) || !num(arg.flags) || !num(arg.iova) || !num(arg.size)) return -EFAULT;
        if (arg.argsz < VFIO_DMA_UNMAP_SIZE || arg.flags) return -EINVAL;
        if (!ct.iommu || !ct.group) return -EINVAL;
        arg.size = vfio_iommu_unmap_dma(ct.group.c, arg.iova, arg.size);
        return 0;
      }
      default: return -ENOTTY;
    }
  },
};

// --- a group ----------------------------------------------------------------------------------

const vfio_group_fops: file_operations = {
  open(inode, file) {
    const g = groups.get(MINOR(inode.i_rdev));
    if (!g) return -ENODEV;
    if (g.opened) return -EBUSY; // one user at a time (vfio_group_fops_open)
    g.opened = true;
    file.private_data = g;
    return 0;
  },
  release(_inode, file) {
    const g = file.private_data as vfio_group;
    if (g.container && !g.devices) container_unset(g.container);
    g.opened = false;
    return 0;
  },
  unlocked_ioctl(file, cmd, arg) {
    const g = file.private_data as vfio_group;
    switch (cmd) {
      case VFIO_GROUP_GET_STATUS:
        if (!obj(arg) || !num(arg.argsz)) return -EFAULT;
        if (arg.argsz < 8) return -EINVAL;
        arg.flags = VFIO_GROUP_FLAGS_VIABLE | (g.container ? VFIO_GROUP_FLAGS_CONTAINER_SET : 0);
        return 0;
      case VFIO_GROUP_SET_CONTAINER: {
        const f = typeof arg === 'number' ? fdget(arg) : null;
        if (!f) return -EBADF;
        if (f.f_op !== vfio_fops) return -EINVAL;
        const ct = f.private_data as vfio_iommu;
        if (g.container) return -EINVAL;
        if (ct.group) return -EBUSY; // one group per container on this board
        ct.group = g;
        g.container = ct;
        return 0;
      }
      case VFIO_GROUP_UNSET_CONTAINER:
        if (!g.container) return -EINVAL;
        if (g.devices) return -EBUSY;
        container_unset(g.container);
        return 0;
      case VFIO_GROUP_GET_DEVICE_FD: {
        if (typeof arg !== 'string') return -EFAULT;
        if (!g.container?.iommu) return -EINVAL;
        if (arg !== g.c.pdev.dev.name) return -ENODEV;
        const files = current().files;
        if (!files) return -EBADF;
        const df = anon_inode_getfile('[vfio-device]', vfio_device_fops, g);
        df.f_mode |= FMODE_PREAD | FMODE_PWRITE; // as vfio_device_open_file sets them
        const fd = fd_install_lowest(files, df, EMFILE);
        if (fd < 0) { df.private_data = null; fput(df); return fd; }
        g.devices++;
        return fd;
      }
      default: return -ENOTTY;
    }
  },
};

// --- the device -------------------------------------------------------------------------------

function region_size(g: vfio_group, index: number): number {
  if (index === VFIO_PCI_CONFIG_REGION_INDEX) return CONFIG_SIZE;
  if (index > VFIO_PCI_BAR5_REGION_INDEX) return 0;
  const r = g.c.pdev.resource[index];
  return r ? r.end - r.start + 1 : 0;
}

/** Region index and offset of a pread/pwrite; null where no 32-bit register is. */
function region_at(g: vfio_group, buf: Uint8Array, pos: number): { index: number; off: number } | null {
  const index = Math.floor(pos / OFFSET_SHIFT);
  const off = pos % OFFSET_SHIFT;
  if (buf.length !== 4 || off % 4 || off + 4 > region_size(g, index)) return null;
  return { index, off };
}

const vfio_device_fops: file_operations = {
  release(_inode, file) {
    const g = file.private_data as vfio_group | null;
    if (g) g.devices--;
    return 0;
  },
  unlocked_ioctl(file, cmd, arg) {
    const g = file.private_data as vfio_group;
    if (!obj(arg) || !num(arg.argsz)) return cmd === VFIO_DEVICE_GET_INFO || cmd === VFIO_DEVICE_GET_REGION_INFO ? -EFAULT : -ENOTTY;
    if (cmd === VFIO_DEVICE_GET_INFO) {
      if (arg.argsz < 16) return -EINVAL;
      Object.assign(arg, { flags: VFIO_DEVICE_FLAGS_PCI, num_regions: VFIO_PCI_NUM_REGIONS, num_irqs: VFIO_PCI_NUM_IRQS });
      return 0;
    }
    if (cmd === VFIO_DEVICE_GET_REGION_INFO) {
      if (arg.argsz < 32 || !num(arg.index)) return -EINVAL;
      if (arg.index >= VFIO_PCI_NUM_REGIONS) return -EINVAL;
      const size = region_size(g, arg.index);
      Object.assign(arg, {
        size, offset: arg.index * OFFSET_SHIFT,
        flags: size ? VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE : 0,
      });
      return 0;
    }
    return -ENOTTY;
  },
  read(file: file, buf: Uint8Array, pos: number) {
    const g = file.private_data as vfio_group;
    const r = region_at(g, buf, pos);
    if (!r) return -EINVAL;
    const v = r.index === VFIO_PCI_CONFIG_REGION_INDEX ? vfio_pci_config_read(g.c, r.off) : vfio_pci_bar_read(g.c, r.index, r.off);
    new DataView(buf.buffer, buf.byteOffset, 4).setUint32(0, v >>> 0, true);
    return 4;
  },
  write(file: file, buf: Uint8Array, pos: number) {
    const g = file.private_data as vfio_group;
    const r = region_at(g, buf, pos);
    if (!r) return -EINVAL;
    const v = new DataView(buf.buffer, buf.byteOffset, 4).getUint32(0, true);
    if (r.index !== VFIO_PCI_CONFIG_REGION_INDEX) {
      const ret = vfio_pci_bar_write(g.c, r.index, r.off, v);
      return ret < 0 ? ret : 4;
    }
    // Config space is virtualized: only the command register's Bus Master bit reaches the device.
    if (r.off === PCI_COMMAND) vfio_pci_config_write_command(g.c, (v & PCI_COMMAND_MASTER) !== 0);
    return 4;
  },
};
