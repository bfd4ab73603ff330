/**
 * The page-fault handler (Linux arch/x86/mm/fault.c: exc_page_fault,
 * do_user_addr_fault, access_error, bad_area).
 *
 * Entered at CPL 0 on the faulting CPU with the #PF error code and CR2, on behalf of
 * current. A user fault the VMA allows goes to handle_mm_fault (demand paging); any
 * other user fault (no VMA, a kernel address, a write to read-only memory, an
 * instruction fetch from NX memory, PROT_NONE) gets SIGSEGV, which kills the task
 * since no task installs handlers. The return value tells the caller whether to retry
 * the access.
 *
 * Faults the kernel itself takes are kernel bugs (no exception-table fixups here): an
 * oops (arch/x86/kernel/traps.ts) that kills the task; the caller is told not to retry.
 */
import { X86_PF_INSTR, X86_PF_PROT, X86_PF_RSVD, X86_PF_USER, X86_PF_WRITE } from '../hw/isa.js';
import {
  FAULT_FLAG_INSTRUCTION, FAULT_FLAG_USER, FAULT_FLAG_WRITE, VM_FAULT_OOM, VM_FAULT_SIGBUS,
  VM_FAULT_SIGSEGV, handle_mm_fault,
} from '../../../mm/memory.js';
import { TASK_SIZE, VM_EXEC, VM_READ, VM_WRITE, find_vma, type vm_area_struct } from '../../../mm/vma.js';
import { current } from '../../../kernel/sched.js';
import {
  BUS_ADRERR, SEGV_ACCERR, SEGV_MAPERR, SIGBUS, SIGKILL, SIGSEGV, force_sig, force_sig_fault,
} from '../../../kernel/signal.js';
import { KERN_ALERT, pr_err, printk } from '../../../kernel/printk.js';
import { smp_processor_id } from '../include/asm/processor.js';
import { die, oops_begin } from '../kernel/dumpstack.js';
import { page_fault_oops } from '../kernel/traps.js';

const pr_alert = (s: string): void => printk(KERN_ALERT, s);

/** What the faulting access should do next. */
export const FAULT_RETRY = 0;  // the fault was fixed: run the access again
export const FAULT_KILLED = 1; // the task got a fatal signal
export const FAULT_OOPS = 2;   // a kernel-mode fault: a kernel bug

/**
 * access_error: may this access touch this VMA? (Linux's order: a write needs
 * VM_WRITE; a read of a present page faulting for protection is refused (NX fetch,
 * pkeys); a read of a missing page needs any access right.)
 */
function access_error(error_code: number, vma: vm_area_struct): boolean {
  if (error_code & X86_PF_WRITE) return !(vma.vm_flags & VM_WRITE);
  if (error_code & X86_PF_PROT) return true;
  return !(vma.vm_flags & (VM_READ | VM_WRITE | VM_EXEC));
}

function bad_area(si_code: number, error_code: number, address: number): number {
  force_sig_fault(SIGSEGV, si_code, address, error_code);
  return FAULT_KILLED;
}

/** do_user_addr_fault: a #PF taken at CPL 3 by current. */
function do_user_addr_fault(error_code: number, address: number): number {
  const tsk = current();
  const mm = tsk.mm;
  if (error_code & X86_PF_RSVD) {
    // pgtable_bad: the tables are corrupt; an oops, and the task is killed.
    oops_begin();
    pr_alert(`${tsk.comm}: Corrupted page table at address ${address.toString(16)}`);
    die('Bad pagetable', error_code, tsk, smp_processor_id(), SIGKILL);
    return FAULT_KILLED;
  }
  // A user access to the kernel half (do_kern_addr_fault -> bad_area_nosemaphore).
  if (address >= TASK_SIZE || !mm) return bad_area(SEGV_MAPERR, error_code, address);

  const vma = find_vma(mm, address);
  if (!vma || vma.vm_start > address) return bad_area(SEGV_MAPERR, error_code, address);
  if (access_error(error_code, vma)) return bad_area(SEGV_ACCERR, error_code, address);

  let flags = FAULT_FLAG_USER;
  if (error_code & X86_PF_WRITE) flags |= FAULT_FLAG_WRITE;
  if (error_code & X86_PF_INSTR) flags |= FAULT_FLAG_INSTRUCTION;
  const fault = handle_mm_fault(vma, address, flags);
  if (fault & VM_FAULT_OOM) {
    // pagefault_out_of_memory: the OOM killer picks the faulting task here.
    pr_err(`Out of memory: Killed process ${tsk.pid} (${tsk.comm})`);
    force_sig(SIGKILL, tsk);
    return FAULT_KILLED;
  }
  if (fault & VM_FAULT_SIGBUS) {
    force_sig_fault(SIGBUS, BUS_ADRERR, address, error_code);
    return FAULT_KILLED;
  }
  if (fault & VM_FAULT_SIGSEGV) return bad_area(SEGV_ACCERR, error_code, address);
  return FAULT_RETRY;
}

/**
 * exc_page_fault: the #PF entry point. `error_code` and `address` (CR2) come from the
 * Fault the CPU raised. Returns FAULT_RETRY, FAULT_KILLED or FAULT_OOPS.
 */
export function exc_page_fault(error_code: number, address: number): number {
  if (error_code & X86_PF_USER) return do_user_addr_fault(error_code, address);
  // no exception-table fixups: a kernel-mode fault is an oops (page_fault_oops)
  page_fault_oops(error_code, address, current(), smp_processor_id());
  return FAULT_KILLED;
}
