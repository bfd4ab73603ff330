/**
 * /proc/cpuinfo (Linux fs/proc/cpuinfo.c): the file itself; the x86 text comes from
 * arch/x86/kernel/cpu/proc.ts.
 */
import { proc_cpuinfo_show } from '../../arch/x86/kernel/cpu/proc.js';
import { proc_create } from './generic.js';

export function proc_cpuinfo_init(): void {
  proc_create('/proc/cpuinfo', proc_cpuinfo_show);
}
