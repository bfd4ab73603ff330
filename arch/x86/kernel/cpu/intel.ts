/**
 * Intel-specific CPU setup (Linux arch/x86/kernel/cpu/intel.c): init_intel() and the
 * TME/MKTME detection it runs on every CPU, detect_tme().
 *
 * detect_tme() follows Linux's 2018-2024 version (commit cb06d8e3d020 "x86/tme: Detect
 * if TME and MKTME is activated by BIOS", until its removal in 2024) message for
 * message, in the same cases and order, with the pr_*_once() call sites printing at
 * most once per boot each, plus:
 *  - 2024: the "tme" capability is cleared on a CPU where the BIOS did not enable TME;
 *  - this tree's boot option `mktme_aes_xts_256`: detect_tme also knows AES-XTS-256,
 *    so TME policy 2 is not an "Unknown policy" and a crypto-algorithm mask with only
 *    AES-XTS-256 leaves MKTME usable. Without it (the default) the log and the outcome
 *    are Linux's: `x86/tme: Unknown policy is active: 0x2` (TME stays on) and
 *    `x86/mktme: No known encryption algorithm is supported: 0x4` (MKTME off). The key
 *    type offers every activated algorithm mm can program (mktme_set_params), so with
 *    a mask allowing both, `algorithm=aes-xts-256` keys work either way;
 *  - the v2 MKTME series ([PATCHv2 08/59]): when MKTME is usable the boot CPU hands the KeyID
 *    count, shift (MAXPHYADDR - KeyID bits, computed before x86_phys_bits is reduced)
 *    and the known algorithms to mm (mktme_set_params); otherwise mktme_disable().
 *  - mktme=off: the hardware state is reported as usual, then MKTME stays off.
 *
 * An AP that finds IA32_TME_ACTIVATE different from the boot CPU's after MKTME was
 * enabled: Linux sets MKTME_DISABLED and goes on ("FIXME: broken for hotplug" in v2).
 * This kernel does the same and calls mktme_disable(): APs come up in smp_init(),
 * before any late initcall (the key service) can hand out a KeyID, so no page is
 * encrypted yet and the per-KeyID direct maps are simply left unused.
 */
import { rdmsrl } from '../../include/asm/processor.js';
import { X86_FEATURE_TME } from '../../include/asm/cpufeatures.js';
import {
  MSR_IA32_TME_ACTIVATE, TME_ACTIVATE_CRYPTO_ALGS, TME_ACTIVATE_CRYPTO_KNOWN_ALGS,
  TME_ACTIVATE_ENABLED, TME_ACTIVATE_KEYID_BITS, TME_ACTIVATE_LOCKED, TME_ACTIVATE_POLICY,
  TME_ACTIVATE_POLICY_AES_XTS_128, TME_ACTIVATE_POLICY_AES_XTS_256, TME_ACTIVATE_CRYPTO_AES_XTS_256,
} from '../../include/asm/msr-index.js';
import { kstrtobool } from '../../../../lib/kstrtox.js';
import { fmt_llx_alt, pr_err, pr_err_once, pr_info, pr_info_once, pr_warn } from '../../../../kernel/printk.js';
import { mktme_disable, mktme_set_params } from '../../mm/mktme.js';
import { EINVAL } from '../../../../kernel/errno.js';
import { early_param } from '../../../../kernel/params.js';
import { clear_cpu_cap, cpu_has, type cpuinfo_x86 } from './common.js';

/** Values for mktme_status (SW only construct). */
export const MKTME_ENABLED = 0;
export const MKTME_DISABLED = 1;
export const MKTME_UNINITIALIZED = 2;

let mktme_status = MKTME_UNINITIALIZED;
let tme_activate_cpu0 = 0n;
/** mktme=off on the command line (this tree's switch: MKTME is used unless it says off). */
let mktme_cmdline_off = false;
early_param('mktme', (val) => {
  if (val === 'off') mktme_cmdline_off = true;
  else if (val === 'on') mktme_cmdline_off = false;
  else return -EINVAL;
  return 0;
}, () => { mktme_cmdline_off = false; });
/**
 * mktme_aes_xts_256[=BOOL] (this tree's, not Linux's): detect_tme accepts TME policy 2
 * and MKTME algorithm AES-XTS-256 as known.
 */
let mktme_aes_xts_256 = false;
early_param('mktme_aes_xts_256', (val) => {
  if (val === null) { mktme_aes_xts_256 = true; return 0; }
  const r = { val: false };
  if (kstrtobool(val, r)) return -EINVAL;
  mktme_aes_xts_256 = r.val;
  return 0;
}, () => { mktme_aes_xts_256 = false; });


/** Boot: forget the previous boot's TME state (mktme= is already parsed). */
export function tme_init(): void {
  mktme_status = MKTME_UNINITIALIZED;
  tme_activate_cpu0 = 0n;
}

export function get_mktme_status(): number { return mktme_status; }

/**
 * After the boot CPU is identified: if detect_tme() never ran (no TME enumerated),
 * MKTME is off for this boot.
 */
export function tme_boot_cpu_done(): void {
  if (mktme_status === MKTME_UNINITIALIZED) set_disabled();
}

/** Linux: init_intel() (the parts this machine needs). */
export function init_intel(c: cpuinfo_x86): void {
  if (cpu_has(c, X86_FEATURE_TME)) detect_tme(c);
}

/** Disable MKTME in software, telling mm when it had been enabled. */
function set_disabled(): void {
  const was = mktme_status;
  mktme_status = MKTME_DISABLED;
  if (was !== MKTME_DISABLED) mktme_disable();
}

export function detect_tme(c: cpuinfo_x86): void {
  const tme_activate = rdmsrl(MSR_IA32_TME_ACTIVATE);
  const first = mktme_status === MKTME_UNINITIALIZED;

  if (!first) {
    if (tme_activate !== tme_activate_cpu0) {
      /* Broken BIOS? */
      pr_err_once('x86/tme: configuration is inconsistent between CPUs');
      pr_err_once('x86/tme: MKTME is not usable');
      set_disabled();
      /* Proceed. We may need to exclude bits from x86_phys_bits. */
    }
  } else {
    tme_activate_cpu0 = tme_activate;
  }

  if (!TME_ACTIVATE_LOCKED(tme_activate) || !TME_ACTIVATE_ENABLED(tme_activate)) {
    pr_info_once('x86/tme: not enabled by BIOS');
    set_disabled();
    clear_cpu_cap(c, X86_FEATURE_TME); // 2024
    return;
  }

  if (first) {
    pr_info('x86/tme: enabled by BIOS');

    const tme_policy = TME_ACTIVATE_POLICY(tme_activate);
    if (tme_policy !== TME_ACTIVATE_POLICY_AES_XTS_128 &&
        !(mktme_aes_xts_256 && tme_policy === TME_ACTIVATE_POLICY_AES_XTS_256)) {
      pr_warn(`x86/tme: Unknown policy is active: ${fmt_llx_alt(tme_policy)}`);
    }

    const tme_crypto_algs = TME_ACTIVATE_CRYPTO_ALGS(tme_activate);
    const known = TME_ACTIVATE_CRYPTO_KNOWN_ALGS | (mktme_aes_xts_256 ? TME_ACTIVATE_CRYPTO_AES_XTS_256 : 0n);
    if (!(tme_crypto_algs & known)) {
      pr_err(`x86/mktme: No known encryption algorithm is supported: ${fmt_llx_alt(tme_crypto_algs)}`);
      mktme_status = MKTME_DISABLED;
    }
  }

  // detect_keyid_bits:
  const keyid_bits = TME_ACTIVATE_KEYID_BITS(tme_activate);
  const nr_keyids = 2 ** keyid_bits - 1;
  if (nr_keyids) {
    pr_info_once('x86/mktme: enabled by BIOS');
    pr_info_once(`x86/mktme: ${nr_keyids} KeyIDs available`, 'mktme-keyids');
  } else {
    pr_info_once('x86/mktme: disabled by BIOS');
  }

  if (mktme_status === MKTME_UNINITIALIZED) {
    /* MKTME is usable */
    mktme_status = MKTME_ENABLED;
  }

  if (first) {
    // v2 series ([PATCHv2 08/59]): publish the KeyID layout, or turn MKTME off in software.
    if (mktme_status === MKTME_ENABLED && nr_keyids && !mktme_cmdline_off) {
      // The key type offers the activated algorithms mm can program (AES-XTS-128, -256).
      const algs = Number(TME_ACTIVATE_CRYPTO_ALGS(tme_activate) &
        (TME_ACTIVATE_CRYPTO_KNOWN_ALGS | TME_ACTIVATE_CRYPTO_AES_XTS_256));
      mktme_set_params(nr_keyids, c.x86_phys_bits - keyid_bits, keyid_bits, algs);
    } else {
      if (mktme_status === MKTME_ENABLED && nr_keyids) pr_info('x86/mktme: disabled by kernel command line');
      mktme_status = MKTME_DISABLED;
      mktme_disable();
    }
  }

  /*
   * KeyID bits effectively lower the number of physical address
   * bits.  Update cpuinfo_x86::x86_phys_bits accordingly.
   */
  c.x86_phys_bits -= keyid_bits;
}
