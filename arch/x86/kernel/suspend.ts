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
 *    (PM_POST_SUSPEND), where the key service programs every KeyID again (keys programmed by PCONFIG "are discarded on reset", SDM). A
 *    software key comes back only with the mktme_storekeys boot option; a CPU-generated
 *    key cannot come back, so that memory is lost (read as garbage), which is the
 *    lesson.
 */
import { rdmsrl, smp_call_function_single, write_cr3 } from '../include/asm/processor.js';
import {
  MSR_IA32_TME_ACTIVATE, TME_ACTIVATE_BYPASS, TME_ACTIVATE_SAVE_KEY, TME_ACTIVATE_ENABLED, TME_ACTIVATE_LOCKED,
} from '../include/asm/msr-index.js';
import { cpu_loaded_mm } from '../mm/tlb.js';
import { load_kernel_pgtable } from '../mm/init.js';
import { EOPNOTSUPP } from '../../../kernel/errno.js';
import { PM_POST_SUSPEND, pm_notifier_call_chain } from '../../../kernel/power/main.js';
import { pr_err, pr_info, pr_warn } from '../../../kernel/printk.js';
import { online_cpus } from './smpboot.js';
import { wbinvd_on_all_packages } from './reboot.js';

/**
 * Get ready for S3: 0, or -EOPNOTSUPP when TME's platform key would not survive.
 * After 0 the platform may enter S3 (the machine's owner presses the button).
 */
export function suspend_prepare(): number {
  const act = rdmsrl(MSR_IA32_TME_ACTIVATE);
  const encrypting = TME_ACTIVATE_LOCKED(act) && TME_ACTIVATE_ENABLED(act) && !TME_ACTIVATE_BYPASS(act);
  if (encrypting && !TME_ACTIVATE_SAVE_KEY(act)) {
    pr_warn('PM: TME key is not saved for standby: suspend to RAM is not available');
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
  const act = rdmsrl(MSR_IA32_TME_ACTIVATE);
  if (!TME_ACTIVATE_LOCKED(act)) pr_err('x86/tme: IA32_TME_ACTIVATE not locked after resume');
  for (const cpu of online_cpus()) {
    smp_call_function_single(cpu, () => {
      load_kernel_pgtable();
      const mm = cpu_loaded_mm(cpu);
      if (mm) write_cr3(mm.pgd);
    });
  }
  const ret = pm_notifier_call_chain(PM_POST_SUSPEND);
  pr_info('PM: suspend exit');
  return ret;
}
