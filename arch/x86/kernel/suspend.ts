/**
 * Suspend to RAM (S3) and resume (Linux kernel/power/suspend.c with
 * arch/x86/kernel/acpi/sleep.c, reduced to what memory encryption changes).
 *
 * In S3 DRAM keeps its contents, but every CPU, cache and key table is reset. So:
 *  - Before sleeping, caches are written back on every package (a dirty line lost in
 *    S3 is lost data), and S3 is refused when TME encrypts memory but the BIOS did not
 *    ask the CPU to keep the platform key for standby (IA32_TME_ACTIVATE[3]): with a new
 *    key after resume the whole of memory, page tables included, would be garbage.
 *  - On resume the BIOS restores the platform key (KEY_SELECT = 1); each CPU reloads the
 *    kernel's page tables and its current task's CR3; then the PM notifiers run
 *    (PM_POST_SUSPEND), where the key service programs every KeyID again (keys
 *    programmed by PCONFIG "are discarded on reset", SDM). A
 *    software key comes back only with the mktme_storekeys boot option; a CPU-generated
 *    key cannot come back, so that memory is lost (read as garbage), which is the
 *    lesson.
 */
import { rdmsrl_safe, smp_call_function_single, write_cr3 } from '../include/asm/processor.js';
import { panic } from '../../../kernel/panic.js';
import {
  MSR_IA32_TME_ACTIVATE, TME_ACTIVATE_BYPASS, TME_ACTIVATE_ENABLED, TME_ACTIVATE_KEY_SELECT, TME_ACTIVATE_LOCKED,
  TME_ACTIVATE_SAVE_KEY,
} from '../include/asm/msr-index.js';
import { cpu_loaded_mm } from '../mm/tlb.js';
import { load_kernel_pgtable } from '../mm/init.js';
import { EOPNOTSUPP } from '../../../kernel/errno.js';
import { PM_POST_SUSPEND, pm_notifier_call_chain } from '../../../kernel/power/main.js';
import { pr_err, pr_info, pr_warn } from '../../../kernel/printk.js';
import { online_cpus } from './smpboot.js';
import { wbinvd_on_all_packages } from './reboot.js';
import { syscore_resume } from '../../../drivers/base/syscore.js';


/** What IA32_TME_ACTIVATE held when we went to sleep, to check the BIOS restored it. */
let act_before: bigint | null = null;

/**
 * Get ready for S3: 0, or -EOPNOTSUPP when memory could not be brought back.
 *
 * Refused whenever TME is enabled (IA32_TME_ACTIVATE[1], locked or not) and the BIOS
 * did not ask the CPU to keep the key for standby (IA32_TME_ACTIVATE[3]): the BIOS
 * cannot restore a key it never saved, so TME and MKTME would come back off and
 * unlocked. With encryption that makes all of memory garbage; under TME bypass (KeyID
 * 0 in the clear) it still takes every MKTME KeyID the kernel maps with, so the kernel
 * would run on KeyIDs the hardware no longer has. A CPU without TME (the MSR raises
 * #GP, rdmsr_safe) has nothing to lose.
 * After 0 the platform may enter S3 (the machine's owner presses the button).
 */
export function suspend_prepare(): number {
  const r = rdmsrl_safe(MSR_IA32_TME_ACTIVATE);
  act_before = r.err ? null : r.val;
  if (act_before !== null && TME_ACTIVATE_ENABLED(act_before) && !TME_ACTIVATE_SAVE_KEY(act_before)) {
    pr_warn(TME_ACTIVATE_BYPASS(act_before)
      ? 'PM: TME key is not saved for standby: MKTME cannot be restored, suspend to RAM is not available'
      : 'PM: TME key is not saved for standby: suspend to RAM is not available');
    return -EOPNOTSUPP;
  }
  pr_info('PM: suspend entry (deep)');
  wbinvd_on_all_packages();
  return 0;
}

/**
 * Back from S3: page tables on every CPU, then every KeyID programmed again.
 * Returns 0, or -ENOKEY when some KeyID could not be restored.
 */
export function suspend_resume(): number {
  const r = rdmsrl_safe(MSR_IA32_TME_ACTIVATE);
  const act = r.err ? null : r.val;
  // the same configuration, KEY_SELECT (bit 2: new key or restored key) aside
  const same = act === null || act_before === null ? act === act_before
    : (act & ~TME_ACTIVATE_KEY_SELECT) === (act_before & ~TME_ACTIVATE_KEY_SELECT);
  if (!same) {
    // The platform did not restore what the kernel's page tables and KeyIDs rely on:
    // going on would run on KeyIDs the hardware no longer has.
    panic(`x86/tme: IA32_TME_ACTIVATE ${act === null ? 'gone' : '0x' + act.toString(16)} after resume, ` +
      `was ${act_before === null ? 'absent' : '0x' + act_before.toString(16)}`);
  }
  if (act !== null && TME_ACTIVATE_ENABLED(act) && !TME_ACTIVATE_LOCKED(act)) {
    pr_err('x86/tme: IA32_TME_ACTIVATE not locked after resume');
  }
  for (const cpu of online_cpus()) {
    smp_call_function_single(cpu, () => {
      load_kernel_pgtable();
      const mm = cpu_loaded_mm(cpu);
      if (mm) write_cr3(mm.pgd);
    });
  }
  syscore_resume(); // the IOMMU, then PCI functions and their drivers (drivers/base/syscore.ts)
  const ret = pm_notifier_call_chain(PM_POST_SUSPEND);
  pr_info('PM: suspend exit');
  return ret;
}
