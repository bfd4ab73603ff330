/**
 * Guest kernel images: every guest runs this project's own kernel, unmodified, as a
 * fresh instance of its modules. JavaScript has one module record per URL, so an image
 * is the kernel's module graph (and the tools', see layout.ts) loaded under URLs that
 * carry `?guest=N`. A Node module-resolution hook (`module.register`, Node >= 20.6;
 * https://nodejs.org/api/module.html#customization-hooks) propagates the query: a
 * module of image N that imports a module in IMAGE_DIRS gets that module's image-N copy;
 * an import of the machine (arch/x86/hw, isa.ts included) or of a package resolves
 * without the query, so the machine's modules and classes (Fault, the vCPU) are shared.
 *
 * The hook composes with any earlier one: it calls `nextResolve` first (under tap that
 * is ts-node's, which maps `.js` specifiers onto `.ts` sources) and only rewrites the
 * URL that comes back. It is installed once per process, on first use, from a data: URL
 * so the same code works from the TypeScript sources (tap) and from build/ (node).
 *
 * Modules are never unloaded, so an image is reused: the kernel resets all its state in
 * start_kernel (init/main.ts), exactly as it does for a reboot. `releaseImage` returns
 * an image number to the pool when its VM is destroyed.
 */
import { register } from 'node:module';
import { IMAGE_DIRS } from './layout.js';
// Types only (erased): an image's modules are loaded by URL at run time, never imported.
import type * as InitMain from '../../init/main.js';
import type * as Head64 from '../../arch/x86/kernel/head64.js';
import type * as GuestInit from '../guest/init.js';

/** The root of this tree: the repository (sources) or build/ (compiled). */
const ROOT = new URL('../../', import.meta.url).href;

export const IMAGE_QUERY = 'guest';

interface HookData { root: string; dirs: readonly string[]; query: string }

// The hook's source text. It runs on Node's loader thread, so it may use nothing from
// this module's scope: initialize() receives the root and directory list.
const HOOK_SOURCE = `
let root = '', dirs = [], query = '';
export function initialize(d) { root = d.root; dirs = d.dirs; query = d.query; }
export async function resolve(specifier, context, nextResolve) {
  const r = await nextResolve(specifier, context);
  const parent = context.parentURL;
  if (!parent || !parent.startsWith(root) || !r.url || !r.url.startsWith(root)) return r;
  const image = new URL(parent).searchParams.get(query);
  if (image === null) return r;
  const url = new URL(r.url);
  const rel = decodeURIComponent(url.pathname.slice(new URL(root).pathname.length));
  if (!dirs.some((d) => rel === d || rel.startsWith(d + '/'))) return r;
  url.searchParams.set(query, image);
  return { ...r, url: url.href };
}
// Every image holds the same source text: what the loader chain (ts-node under tap)
// made of a file once is reused for its copies instead of being transpiled again.
const loaded = new Map();
export async function load(url, context, nextLoad) {
  if (!url.startsWith(root)) return nextLoad(url, context);
  const base = url.split('?')[0];
  const hit = loaded.get(base);
  if (hit) return { ...hit, shortCircuit: true };
  const r = await nextLoad(url, context);
  if (r.format === 'module' && r.source != null) {
    // Keep text: a buffer handed back to the main thread may be transferred (detached).
    const source = typeof r.source === 'string' ? r.source : new TextDecoder().decode(r.source);
    loaded.set(base, { format: r.format, source });
    return { ...r, source };
  }
  return r;
}
`;

const INSTALLED = Symbol.for('mktme-kernel.kernel_image.hook');

/** Install the resolution hook in this process (idempotent; shared by every image). */
export function installImageLoader(): void {
  const g = globalThis as { [INSTALLED]?: boolean };
  if (g[INSTALLED]) return;
  const data: HookData = { root: ROOT, dirs: IMAGE_DIRS, query: IMAGE_QUERY };
  register('data:text/javascript,' + encodeURIComponent(HOOK_SOURCE), { data });
  g[INSTALLED] = true;
}

/** Sources run as .ts (tap, through ts-node), the build as .js. */
const EXT = new URL(import.meta.url).pathname.endsWith('.ts') ? '.ts' : '.js';

/** The URL of `rel` (e.g. 'init/main.js') in image `n`. */
export function imageUrl(rel: string, n: number): string {
  const url = new URL(rel.replace(/\.js$/, EXT), ROOT);
  url.searchParams.set(IMAGE_QUERY, String(n));
  return url.href;
}

/** The modules a VMM needs from a guest image, loaded before it is handed out. */
export interface KernelImage {
  readonly id: number;
  /** init/main.js of this image. */
  readonly init: typeof InitMain;
  /** arch/x86/kernel/head64.js: the guest's entry (x86_64_start_kernel). */
  readonly head64: typeof Head64;
  /** tools/guest/init.js: the guest's user space (console shell, guest agent). */
  readonly guest: typeof GuestInit;
  /** Import any other module of the image, e.g. 'kernel/printk.js'. */
  module<T = unknown>(rel: string): Promise<T>;
}

const free: number[] = [];
let next = 1;
const images = new Map<number, KernelImage>();
/** Loaded images no guest uses, ready to be taken synchronously. */
const ready: KernelImage[] = [];

async function loadImage(id: number): Promise<KernelImage> {
  let img = images.get(id);
  if (!img) {
    const module = <T>(rel: string): Promise<T> => import(imageUrl(rel, id)) as Promise<T>;
    const [init, head64, guest] = await Promise.all([
      module<typeof InitMain>('init/main.js'),
      module<typeof Head64>('arch/x86/kernel/head64.js'),
      module<typeof GuestInit>('tools/guest/init.js'),
    ]);
    img = { id, init, head64, guest, module };
    images.set(id, img);
  }
  return img;
}

/**
 * A kernel image for a new guest: a free one from the pool, or a fresh module graph.
 * The caller boots it (x86_64_start_kernel -> start_kernel resets all kernel state).
 */
export async function acquireImage(): Promise<KernelImage> {
  installImageLoader();
  const r = ready.shift();
  if (r) return r;
  return loadImage(free.length ? free.pop()! : next++);
}

/**
 * Module loading is asynchronous and a shell command is not, so the shell loads images
 * ahead (when it boots, as many as the script has `vm create` lines, or a couple in
 * the background at an interactive prompt) and `vm create` takes one synchronously.
 */
export async function preloadImages(n: number): Promise<void> {
  installImageLoader();
  while (ready.length < n) ready.push(await loadImage(free.length ? free.pop()! : next++));
}

/** A preloaded image, or null when none is ready yet. */
export function takeImage(): KernelImage | null {
  return ready.shift() ?? null;
}

/** Give an image back when its guest is gone (its modules stay loaded, ready for reuse). */
export function releaseImage(img: KernelImage): void {
  if (images.get(img.id) === img && !ready.includes(img)) ready.push(img);
}
