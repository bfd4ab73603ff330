/**
 * pagemap: the page-table entry of each page of [ADDR, ADDR+LEN) in the shell's
 * process: "0xVADDR pfn=0xPFN keyid=N flags=..." (the KeyID as the PTE carries it), or
 * "0xVADDR not present". Without CAP_SYS_ADMIN the PFN and KeyID read as 0, as in
 * /proc/PID/pagemap.
 */
import {
  _PAGE_ACCESSED, _PAGE_DIRTY, _PAGE_NX_HI, _PAGE_PRESENT, _PAGE_RW, _PAGE_USER, pte_keyid, pte_pfn,
  type pte_t,
} from '../../arch/x86/include/asm/pgtable_types.js';
import { pagemap_read } from '../../fs/proc/task_mmu.js';
import { _PAGE_PROTNONE } from '../../mm/vma.js';
import { UsageError, type Command } from '../registry.js';
import type { KernelShellContext } from '../context.js';
import { formatHex } from '../lib/parse.js';
import { as_task, check, nargs, parse_addr, parse_len, shell_task } from '../lib/process.js';

/** Most pages one command prints. */
const PAGEMAP_MAX_PAGES = 4096;

function pte_flags(pte: pte_t): string {
  const f: string[] = [];
  if (pte.lo & _PAGE_PRESENT) f.push('present');
  if (pte.lo & _PAGE_PROTNONE && !(pte.lo & _PAGE_PRESENT)) f.push('protnone');
  if (pte.lo & _PAGE_RW) f.push('rw');
  if (pte.lo & _PAGE_USER) f.push('user');
  if (pte.lo & _PAGE_ACCESSED) f.push('accessed');
  if (pte.lo & _PAGE_DIRTY) f.push('dirty');
  if (pte.hi & _PAGE_NX_HI) f.push('nx');
  return f.join(',') || 'none';
}

export const pagemapCommand: Command<KernelShellContext> = {
  name: 'pagemap',
  usage: 'pagemap ADDR [LEN]',
  summary: 'show the page-table entries of a range (PFN and KeyID need CAP_SYS_ADMIN)',
  run(ctx, args, io) {
    nargs(args, 1, 2);
    const addr = parse_addr(args[0]);
    const len = args.length > 1 ? parse_len(args[1]) : 1;
    const first = addr - (addr % 4096);
    if ((addr + len - first) / 4096 > PAGEMAP_MAX_PAGES) throw new UsageError(`at most ${PAGEMAP_MAX_PAGES} pages`);
    const tsk = shell_task(ctx);
    const entries = as_task(ctx, () => pagemap_read(tsk.cred, tsk.mm!, addr, addr + Math.max(len, 1)));
    if (typeof entries === 'number') return check(entries);
    io.out(entries.map((e) => (e.pte
      ? `${formatHex(e.addr)} pfn=${formatHex(pte_pfn(e.pte))} keyid=${pte_keyid(e.pte)} flags=${pte_flags(e.pte)}\n`
      : `${formatHex(e.addr)} not present\n`)).join(''));
    return 0;
  },
};
