/**
 * shmem: the memory objects behind shared mappings (Linux mm/shmem.c), and named POSIX
 * shared-memory objects (glibc's shm_open opens /dev/shm/NAME, a tmpfs file).
 *
 *  - An object holds its pages by index (one reference each, besides the mappings').
 *    shmem_zero_setup() makes the anonymous one behind MAP_SHARED|MAP_ANONYMOUS;
 *    shm_open() finds or creates a named one, which lives until shm_unlink() and its
 *    last mapping are both gone.
 *  - MKTME on shared memory: the MKTME series allowed encrypt_mprotect on private
 *    anonymous memory only ("only anonymous private mappings can be encrypted",
 *    [PATCHv2 44/59]). This tree extends it to shmem with one rule: **the KeyID
 *    belongs to the object, not to a mapping**. Every page of the object is allocated
 *    under the object's KeyID, and every VMA that maps the object carries that KeyID in
 *    vm_page_prot (so the PTEs do), whoever maps it and whenever. Two processes (two
 *    VMMs, each backing a guest-physical range with the object) therefore see the same
 *    frames under the same KeyID, which is the MKTME spec's "KeyID shared between VM1
 *    and VM2" memory (rev 1.3, virtualization chapter, example figure).
 *  - shmem_set_encrypt() changes an object's KeyID only while exactly one VMA maps it:
 *    other mappings could not all be found and rewritten here (this tree has no
 *    i_mmap rmap), and a mapping left with the old KeyID would read garbage. Like the
 *    series for anonymous memory it discards the contents: pages under the old KeyID
 *    are dropped (their PTEs were zapped and flushed first), new ones come zeroed
 *    under the new KeyID.
 *  - The object holds one reference on its KeyID (as a VMA does), so a revoked key's
 *    KeyID is not reused while the object still names it.
 */
import { GFP_USER, __GFP_ZERO, alloc_pages, put_page } from './page_alloc.js';
import { keyid_get, keyid_put } from '../kernel/cred.js';
import { EBUSY, EEXIST, EINVAL, ENAMETOOLONG, ENOENT, ENOMEM } from '../kernel/errno.js';
import { IS_ERR } from '../kernel/err.js';

export const SHMEM_PAGE_SIZE = 4096;
/** NAME_MAX: the longest name under /dev/shm. */
const NAME_MAX = 255;

/* open(2) flags shm_open takes (include/uapi/asm-generic/fcntl.h). */
export const O_RDONLY = 0o0;
export const O_RDWR = 0o2;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;

/** The memory object behind a shared mapping (Linux: a shmem inode). */
export interface shmem_file {
  /** Inode number shown in /proc/PID/maps. */
  ino: number;
  /** The /dev/shm name, or null for the anonymous object of a MAP_SHARED mapping. */
  name: string | null;
  /** i_size in bytes (ftruncate); 0 for anonymous objects, which grow with faults. */
  size: number;
  /** Pages held by the object: one reference each, besides the mappings' own. */
  pages: Map<number, number>;
  /** VMAs mapping the object. */
  mappings: number;
  /** Still reachable by name (not shm_unlink'ed). */
  linked: boolean;
  /** The object's KeyID: every page and every mapping of it uses this one. */
  keyid: number;
}

let next_ino = 1;
const dev_shm = new Map<string, shmem_file>();

/** Boot: no objects, inode numbers from 1. */
export function shmem_init(): void {
  next_ino = 1;
  dev_shm.clear();
}

function shmem_new(name: string | null): shmem_file {
  return { ino: next_ino++, name, size: 0, pages: new Map(), mappings: 0, linked: name !== null, keyid: 0 };
}

/** shmem_zero_setup: the object behind a new shared anonymous mapping. */
export function shmem_zero_setup(): shmem_file {
  return shmem_new(null);
}

/** A /dev/shm name as shm_open takes it: "/NAME" or "NAME", no other '/'. */
function shm_name(name: string): string | number {
  const n = name.startsWith('/') ? name.slice(1) : name;
  if (n === '' || n.includes('/') || n === '.' || n === '..') return -EINVAL;
  if (n.length > NAME_MAX) return -ENAMETOOLONG;
  return n;
}

/**
 * shm_open(name, oflag): the named object, created (size 0, KeyID 0) with O_CREAT;
 * O_CREAT|O_EXCL fails with -EEXIST if it exists, and without O_CREAT a missing name
 * is -ENOENT. The caller maps it (do_mmap_shm) and sizes it (shmem_truncate).
 */
export function shm_open(name: string, oflag: number): shmem_file | number {
  const n = shm_name(name);
  if (IS_ERR(n)) return n;
  const f = dev_shm.get(n);
  if (f) return oflag & O_CREAT && oflag & O_EXCL ? -EEXIST : f;
  if (!(oflag & O_CREAT)) return -ENOENT;
  const file = shmem_new(n);
  dev_shm.set(n, file);
  return file;
}

/** shm_unlink: the name goes; the object stays while something maps it. */
export function shm_unlink(name: string): number {
  const n = shm_name(name);
  if (IS_ERR(n)) return n;
  const f = dev_shm.get(n);
  if (!f) return -ENOENT;
  dev_shm.delete(n);
  f.linked = false;
  shmem_release_if_unused(f);
  return 0;
}

/** ftruncate: set the object's size; pages beyond it are dropped. 0 or -EINVAL. */
export function shmem_truncate(file: shmem_file, size: number): number {
  if (!Number.isSafeInteger(size) || size < 0) return -EINVAL;
  file.size = size;
  const limit = Math.ceil(size / SHMEM_PAGE_SIZE);
  for (const [index, pfn] of file.pages) {
    if (index >= limit) { file.pages.delete(index); put_page(pfn); }
  }
  return 0;
}

/**
 * shmem_get_folio (the fault path): the object's page at `index`, allocated zeroed
 * under the object's KeyID on first use. A pfn, -EINVAL beyond i_size of a named
 * object (SIGBUS for the faulting task), or -ENOMEM.
 */
export function shmem_get_page(file: shmem_file, index: number): number {
  const have = file.pages.get(index);
  if (have !== undefined) return have;
  if (file.name !== null && index >= Math.ceil(file.size / SHMEM_PAGE_SIZE)) return -EINVAL;
  const pfn = alloc_pages(GFP_USER | __GFP_ZERO, 0, file.keyid);
  if (pfn < 0) return -ENOMEM;
  file.pages.set(index, pfn);
  return pfn;
}

/** A new mapping of the object (vm_area_alloc / vm_area_dup). */
export function shmem_file_get(file: shmem_file): void {
  file.mappings++;
}

/** A mapping gone (vm_area_free); the object goes with its last mapping and its name. */
export function shmem_file_put(file: shmem_file): void {
  file.mappings--;
  shmem_release_if_unused(file);
}

function shmem_release_if_unused(file: shmem_file): void {
  if (file.mappings > 0 || file.linked) return;
  shmem_drop_pages(file);
  if (file.keyid) keyid_put(file.keyid, 1);
  file.keyid = 0;
}

/** The object's references on its pages go (their mappings' went first). */
function shmem_drop_pages(file: shmem_file): void {
  for (const pfn of file.pages.values()) put_page(pfn);
  file.pages.clear();
}

/**
 * Can encrypt_mprotect give the object a new KeyID through this mapping? Only when it
 * is the object's one mapping. 0 or -EBUSY (checked before anything changes).
 */
export function shmem_may_encrypt(file: shmem_file): number {
  return file.mappings === 1 ? 0 : -EBUSY;
}

/**
 * shmem_set_encrypt: the object moves to `keyid`, its contents discarded (the caller
 * has zapped its one mapping's PTEs and flushed the TLBs). The object swaps its KeyID
 * reference; the pages go through free_encrypted_page when their last reference drops.
 */
export function shmem_set_encrypt(file: shmem_file, keyid: number): void {
  shmem_drop_pages(file);
  if (file.keyid === keyid) return;
  if (keyid) keyid_get(keyid, 1);
  if (file.keyid) keyid_put(file.keyid, 1);
  file.keyid = keyid;
}
