/**
 * Permission to open a file (Linux fs/namei.c: generic_permission and
 * acl_permission_check, with no ACLs): the owner's, group's or others' bits of i_mode,
 * then CAP_DAC_OVERRIDE (read/write anything; execute if any x bit is set) and
 * CAP_DAC_READ_SEARCH (read anything).
 */
import { CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, security_capable } from '../kernel/capability.js';
import type { cred } from '../kernel/cred.js';
import { EACCES } from '../kernel/errno.js';
import { S_IFDIR, S_IFMT, type inode } from './file.js';

export const MAY_EXEC = 0x1;
export const MAY_WRITE = 0x2;
export const MAY_READ = 0x4;

const S_IXUGO = 0o111;

function in_group_p(c: cred, gid: number): boolean {
  return c.gid === gid || c.groups.includes(gid);
}

/** acl_permission_check: the mode bits alone. 0 or -EACCES. */
function acl_permission_check(c: cred, inode: inode, mask: number): number {
  let mode = inode.i_mode;
  if (c.uid === inode.i_uid) mode >>= 6;
  else if (in_group_p(c, inode.i_gid)) mode >>= 3;
  return (mask & ~mode & (MAY_READ | MAY_WRITE | MAY_EXEC)) === 0 ? 0 : -EACCES;
}

/** generic_permission(idmap, inode, mask) for credentials `c`: 0 or -EACCES. */
export function generic_permission(c: cred, inode: inode, mask: number): number {
  const ret = acl_permission_check(c, inode, mask);
  if (ret !== -EACCES) return ret;
  const isdir = (inode.i_mode & S_IFMT) === S_IFDIR;
  if (isdir) {
    if (!(mask & MAY_WRITE) && security_capable(c, CAP_DAC_READ_SEARCH)) return 0;
    return security_capable(c, CAP_DAC_OVERRIDE) ? 0 : -EACCES;
  }
  if (!(mask & MAY_EXEC) || (inode.i_mode & S_IXUGO)) {
    if (security_capable(c, CAP_DAC_OVERRIDE)) return 0;
  }
  mask &= MAY_READ | MAY_WRITE | MAY_EXEC;
  if (mask === MAY_READ && security_capable(c, CAP_DAC_READ_SEARCH)) return 0;
  return -EACCES;
}
