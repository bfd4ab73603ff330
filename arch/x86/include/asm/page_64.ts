/**
 * clear_page and copy_page (Linux: asm/page_64.h, arch/x86/lib/clear_page_64.S,
 * copy_page_64.S), for whole pages at kernel virtual addresses.
 *
 * On a CPU with MOVDIR64B both write the destination as full-line direct stores, which
 * never allocate in the cache: the lines go to the memory controller whole and the
 * engine encrypts them there in batches (arch/x86/hw/memsys.ts), and a freshly zeroed
 * page does not evict anyone's working set. TDX zeroes pages this way for the same
 * reason (Linux arch/x86/virt/vmx/tdx/tdx.c, tdx_clear_page: "MOVDIR64B ... with the
 * target's KeyID"). Without it: REP STOSB (clear_page_erms) and REP MOVSB through the
 * cache, as before.
 */
import { X86_FEATURE_MOVDIR64B } from './cpufeatures.js';
import { has_movdir64b, memcpy_fromio, memcpy_toio, memset_io, movdir64b } from './processor.js';
import { boot_cpu_has } from '../../kernel/cpu/common.js';

const LINE = 64;
const ZERO_LINE = new Uint8Array(LINE);

function direct_stores(): boolean { return boot_cpu_has(X86_FEATURE_MOVDIR64B) && has_movdir64b(); }

/** Zero `len` bytes (a multiple of 64, aligned) at `va`. */
export function clear_pages(va: number, len: number): void {
  if (!direct_stores()) { memset_io(va, 0, len); return; }
  for (let off = 0; off < len; off += LINE) movdir64b(va + off, ZERO_LINE, 0);
}

/** Copy one 4 KiB page from `src` to `dst` (kernel virtual addresses). */
export function copy_page(dst: number, src: number, buf: Uint8Array = new Uint8Array(4096)): void {
  memcpy_fromio(src, buf);
  if (!direct_stores()) { memcpy_toio(dst, buf); return; }
  for (let off = 0; off < buf.length; off += LINE) movdir64b(dst + off, buf, off);
}
