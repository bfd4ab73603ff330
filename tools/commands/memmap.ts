/**
 * memmap: a picture of physical memory by KeyID. Memory is cut into runs of pages in
 * the same state (free, reserved, allocated with KeyID k, hole, persistent memory);
 * each run is one cell of the strip, followed by the list of runs and a legend. On a
 * terminal the cells are coloured by KeyID; otherwise plain characters:
 *
 *   .  free     #  reserved     _  hole (no RAM)     %  persistent memory
 *   0-9 a-z A-Z + /  allocated with KeyID 0..63 (* above 63)
 *
 * It reads the allocator's page arrays only; it never touches memory itself.
 */
import { E820_TYPE_PMEM } from '../../arch/x86/hw/isa.js';
import { PG_buddy, PG_reserved, page_flags, page_keyid_arr, page_order, page_refcount } from '../../mm/page.js';
import { e820_table } from '../../mm/memblock.js';
import { max_pfn } from '../../mm/page_alloc.js';
import { CommandError, UsageError, type Command } from '../registry.js';

const PAGE = 4096;
const CELLS_PER_LINE = 64;
const MAX_ROWS = 40;
const KEYID_CHARS = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+/';

const FREE = -1;
const RESERVED = -2;
const HOLE = -3;
const PMEM = -4;
const UNKNOWN = -5;

/** A run: [start, end) in pages, and its kind (a KeyID >= 0 or one of the codes above). */
export interface Run { start: number; end: number; kind: number }

function push(runs: Run[], start: number, end: number, kind: number): void {
  const last = runs[runs.length - 1];
  if (last && last.kind === kind && last.end === start) last.end = end;
  else runs.push({ start, end, kind });
}

/** The runs of physical memory, from PFN 0 to the end of the last e820 range. */
function memmap_runs(): Run[] {
  const runs: Run[] = [];
  let pfn = 0;
  while (pfn < max_pfn) {
    const f = page_flags[pfn];
    if (f & PG_reserved) {
      const s = pfn;
      while (pfn < max_pfn && page_flags[pfn] & PG_reserved) pfn++;
      push(runs, s, pfn, RESERVED);
    } else if (f & PG_buddy) {
      const n = 2 ** page_order[pfn];
      push(runs, pfn, pfn + n, FREE);
      pfn += n;
    } else if (page_refcount[pfn] > 0) {
      const n = 2 ** page_order[pfn];
      push(runs, pfn, pfn + n, page_keyid_arr[pfn]);
      pfn += n;
    } else {
      push(runs, pfn, pfn + 1, UNKNOWN);
      pfn++;
    }
  }
  // Holes inside the map are reserved pages; report them as holes where e820 has nothing.
  const out: Run[] = [];
  const e820 = e820_table();
  const covered = (p: number): boolean => e820.some((e) => p * PAGE >= e.addr && p * PAGE < e.addr + e.size);
  for (const r of runs) {
    if (r.kind !== RESERVED) { push(out, r.start, r.end, r.kind); continue; }
    let s = r.start;
    while (s < r.end) {
      const hole = !covered(s);
      // The piece ends at the next e820 boundary inside the run.
      const bounds = e820.flatMap((x) => [x.addr / PAGE, (x.addr + x.size) / PAGE]).filter((b) => b > s && b < r.end);
      const e = bounds.length ? Math.min(...bounds) : r.end;
      push(out, s, e, hole ? HOLE : RESERVED);
      s = e;
    }
  }
  // Beyond max_pfn: persistent memory and the holes before it.
  let at = max_pfn;
  for (const e of e820) {
    const s = Math.floor(e.addr / PAGE);
    const end = Math.ceil((e.addr + e.size) / PAGE);
    if (end <= at) continue;
    if (s > at) push(out, at, s, HOLE);
    push(out, Math.max(s, at), end, e.type === E820_TYPE_PMEM ? PMEM : RESERVED);
    at = end;
  }
  return out;
}

function cell(kind: number): string {
  switch (kind) {
    case FREE: return '.';
    case RESERVED: return '#';
    case HOLE: return '_';
    case PMEM: return '%';
    case UNKNOWN: return '?';
    default: return kind < KEYID_CHARS.length ? KEYID_CHARS[kind] : '*';
  }
}

function describe(kind: number): string {
  switch (kind) {
    case FREE: return 'free';
    case RESERVED: return 'reserved';
    case HOLE: return 'hole';
    case PMEM: return 'persistent memory';
    case UNKNOWN: return 'unknown state';
    default: return `KeyID ${kind}`;
  }
}

/** ANSI 256-colour background per kind: KeyID 0 blue, others from a bright palette. */
const PALETTE = [160, 34, 178, 129, 37, 202, 91, 70, 25, 168, 142, 31];
function colour(kind: number, text: string): string {
  let bg: number;
  if (kind === FREE) bg = 236;
  else if (kind === RESERVED) bg = 244;
  else if (kind === HOLE || kind === PMEM || kind === UNKNOWN) bg = kind === PMEM ? 94 : 232;
  else bg = kind === 0 ? 19 : PALETTE[(kind - 1) % PALETTE.length];
  return `\x1b[48;5;${bg}m\x1b[97m${text}\x1b[0m`;
}

/** Legend order: free, reserved, hole, pmem, unknown, then KeyIDs ascending. */
function order(kind: number): number { return kind < 0 ? -kind - 100 : kind; }

function hex16(n: number): string { return n.toString(16).padStart(16, '0'); }

export const memmapCommand: Command<unknown> = {
  name: 'memmap',
  usage: 'memmap',
  summary: 'picture of physical memory by KeyID',
  help: 'One cell per run of pages in the same state; the runs are listed below the strip.',
  run(_ctx, args, io) {
    if (args.length) throw new UsageError('no arguments expected');
    if (max_pfn === 0) throw new CommandError('the page allocator is not initialised');
    const runs = memmap_runs();
    const end = runs.length ? runs[runs.length - 1].end : 0;
    const paint = (k: number): string => (io.isTty ? colour(k, cell(k)) : cell(k));
    io.out(`physical memory 0x0-0x${(end * PAGE).toString(16)}: ${end} pages in ${runs.length} runs\n`);
    for (let i = 0; i < runs.length; i += CELLS_PER_LINE) {
      io.out(runs.slice(i, i + CELLS_PER_LINE).map((r) => paint(r.kind)).join('') + '\n');
    }
    for (const r of runs.slice(0, MAX_ROWS)) {
      io.out(`  ${paint(r.kind)} ${hex16(r.start * PAGE)}-${hex16(r.end * PAGE - 1)} ` +
        `${String(r.end - r.start).padStart(9)} pages  ${describe(r.kind)}\n`);
    }
    if (runs.length > MAX_ROWS) io.out(`  ... ${runs.length - MAX_ROWS} more runs\n`);
    const used = [...new Set(runs.map((r) => r.kind))].sort((a, b) => order(a) - order(b));
    io.out('legend: ' + used.map((k) => `${paint(k)} ${describe(k)}`).join('  ') + '\n');
    return 0;
  },
};
