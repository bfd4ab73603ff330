/**
 * Anonymous inodes (Linux fs/anon_inodes.c): a file with no node in any filesystem,
 * for objects a driver hands out as descriptors (KVM's VM and vCPU fds, "anon_inode:kvm-vm").
 */
import { EBADF, EMFILE } from '../kernel/errno.js';
import { current } from '../kernel/sched.js';
import { FMODE_READ, FMODE_WRITE, O_RDWR, fd_install_lowest, fput, type file, type file_operations } from './file.js';

/** anon_inode_getfile: a new file (one reference) whose f_op is `fops`. */
export function anon_inode_getfile(name: string, fops: file_operations, priv: unknown, flags = O_RDWR): file {
  const c = current().cred;
  return {
    f_op: fops, f_flags: flags, f_mode: FMODE_READ | FMODE_WRITE, f_pos: 0, private_data: priv,
    f_cred: Object.freeze({ ...c, groups: [...c.groups] }),
    f_inode: { i_mode: 0o600, i_uid: 0, i_gid: 0, i_rdev: 0 },
    f_path: `anon_inode:${name}`, f_count: 1,
  };
}

/** anon_inode_getfd: the same, installed at the lowest free descriptor; or -errno. */
export function anon_inode_getfd(name: string, fops: file_operations, priv: unknown, flags = O_RDWR): number {
  const files = current().files;
  if (!files) return -EBADF;
  const f = anon_inode_getfile(name, fops, priv, flags);
  const fd = fd_install_lowest(files, f, EMFILE);
  if (fd < 0) { f.private_data = null; fput(f); }
  return fd;
}
