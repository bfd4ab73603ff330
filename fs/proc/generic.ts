/**
 * A tiny pseudo-filesystem for /proc and /sys (Linux fs/proc/generic.c and the read
 * side of the VFS, reduced to what text files need): read-only files whose contents
 * are produced by a `show` function at read time, and directories implied by the
 * files' paths.
 *
 *   proc_create('/proc/meminfo', show)        a file at a full path
 *   proc_create('/sys/power/state', show, store)   a writable one (mode 0644)
 *   proc_mkdir('/sys/kernel/mm/mktme')        an (otherwise empty) directory
 *   proc_register_dir('/proc', provider)      files computed on demand under a prefix:
 *       provider.list()      every file under the prefix, as a relative path
 *                            ('1/status', '1/maps', '2/status'); directories are implied
 *       provider.lookup(r)   the show function of relative path r, or null
 *   vfs_read(path)     -> text, or -ENOENT / -ENOTDIR / -EISDIR / -EIO
 *   vfs_readdir(path)  -> sorted names, or -ENOENT / -ENOTDIR
 *
 * Paths are absolute or relative to '/'; '.', '..' and repeated '/' are resolved.
 * proc_reset() empties everything for a new boot (called first thing by start_kernel,
 * so any subsystem may register entries from its init function on).
 */
import { pr_err } from '../../kernel/printk.js';
import { EEXIST, EINVAL, EIO, EISDIR, ENOENT, ENOTDIR } from '../../kernel/errno.js';
import { IS_ERR } from '../../kernel/err.js';

/** A file's contents, or a negative errno. */
export type proc_show = () => string | number;
/** A write to a writable file (sysfs's store): bytes consumed or a negative errno. */
export type proc_store = (text: string) => number;

export interface proc_dir_provider {
  list(): string[];
  lookup(rest: string): proc_show | null;
}

let files = new Map<string, proc_show>();
let stores = new Map<string, proc_store>();
let dirs = new Set<string>();
let providers = new Map<string, proc_dir_provider>();

/** Boot: no entries at all (the root directories /proc and /sys always exist). */
export function proc_reset(): void {
  files = new Map();
  stores = new Map();
  dirs = new Set(['/proc', '/sys']);
  providers = new Map();
}
proc_reset();

/** The canonical form of `path`: absolute, no '.', '..', empty or trailing components. */
export function proc_normalize(path: string): string {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') { out.pop(); continue; }
    out.push(part);
  }
  return '/' + out.join('/');
}

function check_path(path: string): string {
  if (typeof path !== 'string' || !path.startsWith('/')) throw new Error(`procfs: path must be absolute: '${path}'`);
  const p = proc_normalize(path);
  if (p === '/') throw new Error('procfs: cannot register the root');
  return p;
}

/**
 * Create (or replace) the file `path` whose contents `show()` returns at each read.
 * A bad path is a programming error and throws.
 */
export function proc_create(path: string, show: proc_show, store?: proc_store): void {
  const p = check_path(path);
  files.set(p, show);
  if (store) stores.set(p, store); else stores.delete(p);
}

/** The store of a writable file (mode 0644, root's), or null for a read-only one. */
export function proc_lookup_store(path: string): proc_store | null {
  return stores.get(proc_normalize(path)) ?? null;
}

/** Create an empty directory (directories holding files exist without this). */
export function proc_mkdir(path: string): void {
  dirs.add(check_path(path));
}

/** Remove a file, an explicit directory or a provider registered at `path`. */
export function proc_remove(path: string): void {
  const p = proc_normalize(path);
  files.delete(p);
  stores.delete(p);
  dirs.delete(p);
  providers.delete(p);
}

/** Files under `prefix` computed on demand (e.g. /proc/PID/*). Replaces an earlier one. */
export function proc_register_dir(prefix: string, provider: proc_dir_provider): void {
  providers.set(check_path(prefix), provider);
}

type Node = { kind: 'file'; show: proc_show } | { kind: 'dir' } | { kind: 'none' };

function provider_entries(prefix: string): string[] {
  try {
    return providers.get(prefix)?.list().map(proc_normalize).map((s) => s.slice(1)) ?? [];
  } catch (e) {
    pr_err(`procfs: listing ${prefix} failed: ${e instanceof Error ? e.message : String(e)}`);
    return [];
  }
}

function lookup(p: string): Node {
  const show = files.get(p);
  if (show) return { kind: 'file', show };
  if (p === '/' || dirs.has(p) || providers.has(p)) return { kind: 'dir' };
  for (const k of files.keys()) if (k.startsWith(p + '/')) return { kind: 'dir' };
  for (const d of dirs) if (d.startsWith(p + '/')) return { kind: 'dir' };
  for (const prefix of providers.keys()) {
    if (prefix.startsWith(p + '/')) return { kind: 'dir' };
    if (!p.startsWith(prefix + '/')) continue;
    const rest = p.slice(prefix.length + 1);
    let fn: proc_show | null = null;
    try {
      fn = providers.get(prefix)!.lookup(rest);
    } catch (e) {
      pr_err(`procfs: lookup of ${p} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (fn) return { kind: 'file', show: fn };
    if (provider_entries(prefix).some((e) => e.startsWith(rest + '/'))) return { kind: 'dir' };
  }
  return { kind: 'none' };
}

/** Resolve `path`: the node, or -ENOTDIR when a parent component is a file. */
function resolve(path: string): Node | number {
  const p = proc_normalize(path);
  const parts = p.split('/').filter(Boolean);
  for (let i = 1; i < parts.length; i++) {
    const parent = '/' + parts.slice(0, i).join('/');
    const n = lookup(parent);
    if (n.kind === 'file') return -ENOTDIR;
    if (n.kind === 'none') return -ENOENT;
  }
  return lookup(p);
}

/** For the VFS's open (fs/open.ts): the show function at `path`, 'dir', or a negative errno. */
export function proc_lookup_file(path: string): proc_show | 'dir' | number {
  if (typeof path !== 'string') return -EINVAL;
  const n = resolve(path);
  if (IS_ERR(n)) return n;
  if (n.kind === 'none') return -ENOENT;
  return n.kind === 'dir' ? 'dir' : n.show;
}

/** Run a show function: its text, or a negative errno (a throwing show is -EIO, logged). */
export function proc_run_show(show: proc_show, path: string): string | number {
  try {
    const v = show();
    if (IS_ERR(v)) return v < 0 && Number.isInteger(v) ? v : -EIO;
    return typeof v === 'string' ? v : -EIO;
  } catch (e) {
    pr_err(`procfs: read of ${proc_normalize(path)} failed: ${e instanceof Error ? e.message : String(e)}`);
    return -EIO;
  }
}

/** Read a whole file: its text, or a negative errno. */
export function vfs_read(path: string): string | number {
  const n = proc_lookup_file(path);
  if (IS_ERR(n)) return n;
  if (n === 'dir') return -EISDIR;
  return proc_run_show(n, path);
}

/** The names in a directory, sorted; or a negative errno. */
export function vfs_readdir(path: string): string[] | number {
  if (typeof path !== 'string') return -EINVAL;
  const n = resolve(path);
  if (IS_ERR(n)) return n;
  if (n.kind === 'none') return -ENOENT;
  if (n.kind === 'file') return -ENOTDIR;
  const p = proc_normalize(path);
  const base = p === '/' ? '/' : p + '/';
  const names = new Set<string>();
  const child = (full: string): void => {
    if (full.startsWith(base) && full.length > base.length) names.add(full.slice(base.length).split('/')[0]);
  };
  for (const k of files.keys()) child(k);
  for (const d of dirs) child(d);
  for (const prefix of providers.keys()) {
    child(prefix);
    if (p === prefix || p.startsWith(prefix + '/')) {
      for (const e of provider_entries(prefix)) child(prefix + '/' + e);
    }
  }
  return [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Is `path` an existing directory? */
export function vfs_isdir(path: string): boolean {
  const n = resolve(path);
  return typeof n !== 'number' && n.kind === 'dir';
}
