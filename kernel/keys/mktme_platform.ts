/**
 * The key service's view of the platform: where the `mktme` key type meets the x86
 * code. It fills mktme_hw_ops from the arch side (KeyID count and algorithms from
 * detect_tme via arch/x86/mm/mktme, one lead CPU per package from the topology, and
 * mktme_key_program() run on that CPU, as Linux's mktme_do_program does through
 * on_each_cpu_mask), and plugs the KeyID reference counts into the page allocator's
 * prep/free_encrypted_page hooks.
 *
 * init_mktme_keys() runs at late_initcall time on every boot (Linux: init_mktme is a
 * late_initcall too).
 */
import { rdtsc, smp_call_function_single, smp_processor_id } from '../../arch/x86/include/asm/processor.js';
import { cycles_to_ns } from '../../arch/x86/include/asm/tsc.js';
import { mktme_key_program_wipe, type mktme_key_program as kprog_t } from '../../arch/x86/include/asm/intel_pconfig.js';
import { mktme_key_program } from '../../arch/x86/kernel/cpu/intel_pconfig.js';
import { package_lead_cpus } from '../../arch/x86/kernel/smpboot.js';
import { mktme_algs, mktme_nr_keyids, mktme_set_keyid_ref_ops } from '../../arch/x86/mm/mktme.js';
import { proc_create } from '../../fs/proc/generic.js';
import { cpu_curr, find_task_by_vpid } from '../sched.js';
import { __setup } from '../params.js';
import { pr_info_tree, pr_warn, printk, KERN_ERR } from '../printk.js';
import { NOTIFY_DONE, notifier_from_errno, type notifier_block } from '../notifier.js';
import { PM_POST_SUSPEND, register_pm_notifier } from '../power/main.js';
import {
  key_init, init_mktme, mktme_keyid_get, mktme_keyid_put, mktme_reprogram_all, proc_key_users_show,
  proc_keys_show, type mktme_hw_ops,
} from './index.js';

const KEY_SERIAL_SEED = 0x6d6b746d; // 'mktm'

/** mktme_storekeys: keep "user" key payloads to program packages again (after S3). */
let mktme_storekeys = false;
__setup('mktme_storekeys', () => { mktme_storekeys = true; return 1; }, () => { mktme_storekeys = false; });

const platform_ops: mktme_hw_ops = {
  nr_keyids: () => mktme_nr_keyids(),
  algs: () => mktme_algs(),
  /** One CPU per package (Linux: mktme_update_pconfig_targets). */
  lead_cpus: () => package_lead_cpus().map((l) => l.cpu),
  key_program(cpu, keyid, keyid_ctrl, key_field_1, key_field_2): number {
    // This package's own copy: the caller programs every package from the same fields,
    // so wiping them here would program the next package with zeros.
    const kprog: kprog_t = { keyid, keyid_ctrl, key_field_1: key_field_1.slice(), key_field_2: key_field_2.slice() };
    try {
      return smp_call_function_single(cpu, () => mktme_key_program(kprog));
    } finally {
      mktme_key_program_wipe(kprog);
    }
  },
  printk: (msg) => printk(KERN_ERR, msg),
};

/**
 * After S3 every package's key table is empty: program every live KeyID again (Linux
 * has no MKTME resume path; a PM notifier is where one belongs, since PCONFIG needs a
 * CPU of every package online).
 */
const mktme_pm_notifier: notifier_block = {
  notifier_call(action) {
    if (action !== PM_POST_SUSPEND) return NOTIFY_DONE;
    const ret = mktme_reprogram_all();
    if (ret < 0) pr_warn('mktme: some KeyIDs could not be restored; their memory reads as garbage');
    return notifier_from_errno(ret);
  },
};

/** Boot: the key service, then the mktme key type when MKTME is usable. */
export function init_mktme_keys(): number {
  key_init({
    now: () => Math.floor(cycles_to_ns(rdtsc()) / 1e9),
    // Linux draws serials from get_random_bytes; a fixed seed keeps them the same from
    // boot to boot and from build to build, so transcripts can name keys by serial.
    serial_seed: KEY_SERIAL_SEED,
  });
  mktme_set_keyid_ref_ops({
    get: (keyid, n) => { mktme_keyid_get(keyid, n); },
    put: (keyid, n) => { mktme_keyid_put(keyid, n); },
  });
  // /proc/keys shows what the reading task may view (Linux: proc_keys_show uses
  // current_cred()); the reader's read(2) runs as that task, so it is current here.
  proc_create('/proc/keys', () => {
    const tsk = cpu_curr(smp_processor_id());
    return tsk ? proc_keys_show(tsk.cred) : '';
  });
  proc_create('/proc/key-users', () => proc_key_users_show());
  register_pm_notifier(mktme_pm_notifier);
  const ret = init_mktme(platform_ops, { storekeys: mktme_storekeys });
  if (ret < 0) return ret;
  if (mktme_nr_keyids() > 0) pr_info_tree(`keys: mktme key type registered, ${mktme_nr_keyids()} KeyIDs`);
  return 0;
}
