/**
 * /dev/mem and /dev/null (Linux drivers/char/mem.c: memory_fops dispatching on the
 * minor, open_port, read_mem, write_mem, memory_lseek, null_fops).
 *
 * /dev/mem's offset is a physical address. On an MKTME machine the KeyID is part of
 * the physical address (bits [MAXPHYADDR-1 : MAXPHYADDR-k], Intel Intel MKTME spec (336907-003, rev 1.3), IA32_TME_EXCLUDE_MASK/BASE),
 * so offset PA | KeyID << keyid_shift reads PA through that KeyID, which the kernel
 * does through the KeyID's direct mapping (arch/x86/mm/init.ts), caches and engine
 * included. Opening needs CAP_SYS_RAWIO (open_port: -EPERM), after the node's own
 * mode (crw-r----- root:kmem, as udev's default rules set it) has let the opener in.
 *
 * This kernel is built as a lab kernel without CONFIG_STRICT_DEVMEM: RAM is readable
 * by a CAP_SYS_RAWIO holder, which is the point of the "privileged software" lesson.
 * A range outside the direct mapping (no memory there, or a KeyID without a mapping)
 * is -EFAULT (read_mem's valid_phys_addr_range check), and nothing is accessed.
 */
import { __va, direct_mapping_keyids } from '../../arch/x86/include/asm/page.js';
import { memcpy_fromio, memcpy_toio } from '../../arch/x86/include/asm/processor.js';
import { direct_map_ranges } from '../../arch/x86/mm/init.js';
import { mktme_keyid_shift } from '../../arch/x86/mm/mktme.js';
import { CAP_SYS_RAWIO, capable } from '../../kernel/capability.js';
import { EFAULT, EINVAL, EPERM } from '../../kernel/errno.js';
import { register_chrdev } from '../../fs/char_dev.js';
import { KMEM_GID, devtmpfs_create_node } from '../../fs/devtmpfs.js';
import { FMODE_UNSIGNED_OFFSET, MINOR, SEEK_CUR, SEEK_SET, type file_operations } from '../../fs/file.js';

export const MEM_MAJOR = 1;
const MEM_MINOR = 1;
const NULL_MINOR = 3;

/** A /dev/mem offset as (physical address without KeyID bits, KeyID). */
export function devmem_decode(pos: number): { pa: number; keyid: number } {
  const shift = mktme_keyid_shift();
  if (shift === 0 || direct_mapping_keyids() <= 1) return { pa: pos, keyid: 0 };
  const unit = 2 ** shift;
  return { pa: pos % unit, keyid: Math.floor(pos / unit) };
}

/** The /dev/mem offset of physical address `pa` seen through `keyid`. */
export function devmem_offset(pa: number, keyid: number): number {
  return keyid === 0 ? pa : pa + keyid * 2 ** mktme_keyid_shift();
}

/** valid_phys_addr_range: [pa, pa+len) in one direct-mapped range of a mapped KeyID. */
function valid_phys_addr_range(pa: number, keyid: number, len: number): boolean {
  if (keyid >= direct_mapping_keyids()) return false;
  return direct_map_ranges().some((r) => pa >= r.start && pa + len <= r.end);
}

/** open_port: raw access to physical memory needs CAP_SYS_RAWIO. */
function open_port(): number {
  return capable(CAP_SYS_RAWIO) ? 0 : -EPERM;
}

const mem_fops: file_operations = {
  open: () => open_port(),
  read(_file, buf, pos) {
    const { pa, keyid } = devmem_decode(pos);
    if (!valid_phys_addr_range(pa, keyid, buf.length)) return -EFAULT;
    memcpy_fromio(__va(pa, keyid), buf);
    return buf.length;
  },
  write(_file, buf, pos) {
    const { pa, keyid } = devmem_decode(pos);
    if (!valid_phys_addr_range(pa, keyid, buf.length)) return -EFAULT;
    memcpy_toio(__va(pa, keyid), buf);
    return buf.length;
  },
  llseek(file, offset, whence) {
    // memory_lseek: SEEK_SET and SEEK_CUR only
    if (whence === SEEK_SET) return offset >= 0 ? offset : -EINVAL;
    if (whence === SEEK_CUR) return file.f_pos + offset >= 0 ? file.f_pos + offset : -EINVAL;
    return -EINVAL;
  },
};

const null_fops: file_operations = {
  read: () => 0,
  write: (_file, buf) => buf.length,
  llseek: () => 0,
};

/** memory_open: pick the minor's operations, then its open. */
const memory_fops: file_operations = {
  open(inode, file) {
    const minor = MINOR(inode.i_rdev);
    const fops = minor === MEM_MINOR ? mem_fops : minor === NULL_MINOR ? null_fops : null;
    if (!fops) return -EINVAL;
    file.f_op = fops;
    if (minor === MEM_MINOR) file.f_mode |= FMODE_UNSIGNED_OFFSET;
    return fops.open ? fops.open(inode, file) : 0;
  },
};

/** chr_dev_init (Linux: fs_initcall): major 1 and its nodes. */
export function chr_dev_init(): number {
  const ret = register_chrdev(MEM_MAJOR, 'mem', memory_fops);
  if (ret < 0) return ret;
  devtmpfs_create_node('/dev/mem', MEM_MAJOR, MEM_MINOR, 0o640, 0, KMEM_GID);
  devtmpfs_create_node('/dev/null', MEM_MAJOR, NULL_MINOR, 0o666);
  return 0;
}
