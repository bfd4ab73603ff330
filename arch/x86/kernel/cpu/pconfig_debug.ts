/**
 * The kernel side of the `pconfig` debug tool: program one KeyID on every package,
 * outside the key service, the way the service would (one lead CPU per package, each
 * running mktme_key_program). Linux has no such interface; this tree offers it as a
 * debug facility and gates it as Linux gates raw hardware configuration:
 *
 *   CAP_SYS_ADMIN or -EPERM.
 *
 * Why CAP_SYS_ADMIN: the MKTME key service itself requires CAP_SYS_RESOURCE or
 * CAP_SYS_ADMIN to program a key (mktme_keys.rst: "CAP_SYS_RESOURCE is required, but
 * it will accept the broader capability of CAP_SYS_ADMIN"). This path is broader
 * still: it bypasses the service's KeyID ownership and can turn any tenant's KeyID
 * into plaintext (no-encrypt) or a new key, so only the broader capability will do,
 * as for Linux's other raw debug interfaces (debugfs is root-only, CAP_SYS_ADMIN
 * paths throughout).
 */
import type { mktme_key_program as kprog_t } from '../../include/asm/intel_pconfig.js';
import { mktme_key_program } from './intel_pconfig.js';
import { smp_call_function_single } from '../../include/asm/processor.js';
import { CAP_SYS_ADMIN, capable } from '../../../../kernel/capability.js';
import { EPERM } from '../../../../kernel/errno.js';
import { package_lead_cpus } from '../smpboot.js';

/** Each package's result (RAX or -errno), or -EPERM for the whole request. */
export function pconfig_debug_key_program(kprog: kprog_t): { pkg: number; status: number }[] | number {
  if (!capable(CAP_SYS_ADMIN)) return -EPERM;
  return package_lead_cpus().map(({ pkg, cpu }) => ({
    pkg, status: smp_call_function_single(cpu, () => mktme_key_program(kprog)),
  }));
}
