/**
 * /proc/cpuinfo in Linux's x86 format (arch/x86/kernel/cpu/proc.c show_cpuinfo): one
 * block per online CPU, a blank line after each. "flags" lists x86_cap_flags names in
 * feature-number order, so "tme" (7.0 ECX[13]) and "pconfig" (7.0 EDX[18]) appear when
 * enumerated; "tme" is gone on a CPU whose BIOS left TME off (detect_tme clears it).
 * "address sizes" shows x86_phys_bits after the KeyID bits were taken away.
 */
import { NCAPINTS, X86_FEATURE_TSC, x86_cap_flags } from '../../include/asm/cpufeatures.js';
import { cpu_has, type cpuinfo_x86 } from './common.js';
import { HZ } from './common.js';
import { online_cpu_data } from '../smpboot.js';

/** "power management:" names of 80000007H EDX bits (x86_power_flags). */
const x86_power_flags: (string | null)[] = [
  'ts', 'fid', 'vid', 'ttp', 'tm', 'stc', '100mhzsteps', 'hwpstate', null /* constant_tsc */,
  'cpb', 'eff_freq_ro', 'proc_feedback', 'acc_power',
];

function show_cpuinfo(c: cpuinfo_x86): string {
  const lines: string[] = [];
  lines.push(`processor\t: ${c.cpu_index}`);
  lines.push(`vendor_id\t: ${c.x86_vendor_id || 'unknown'}`);
  lines.push(`cpu family\t: ${c.x86}`);
  lines.push(`model\t\t: ${c.x86_model}`);
  lines.push(`model name\t: ${c.x86_model_id || 'unknown'}`);
  lines.push(c.cpuid_level >= 0 ? `stepping\t: ${c.x86_stepping}` : 'stepping\t: unknown');
  if (cpu_has(c, X86_FEATURE_TSC)) {
    const khz = Math.floor((c.loops_per_jiffy * HZ) / 1000);
    lines.push(`cpu MHz\t\t: ${Math.floor(khz / 1000)}.${String(khz % 1000).padStart(3, '0')}`);
  }
  // show_cpuinfo_core()
  lines.push(`physical id\t: ${c.phys_proc_id}`);
  lines.push(`siblings\t: ${c.booted_cores}`);
  lines.push(`core id\t\t: ${c.cpu_core_id}`);
  lines.push(`cpu cores\t: ${c.booted_cores}`);
  lines.push(`apicid\t\t: ${c.apicid}`);
  lines.push(`initial apicid\t: ${c.initial_apicid}`);
  // show_cpuinfo_misc()
  lines.push('fpu\t\t: yes');
  lines.push('fpu_exception\t: yes');
  lines.push(`cpuid level\t: ${c.cpuid_level}`);
  lines.push('wp\t\t: yes');
  let flags = 'flags\t\t:';
  for (let i = 0; i < 32 * NCAPINTS; i++) {
    const name = x86_cap_flags[i];
    if (name && cpu_has(c, i)) flags += ' ' + name;
  }
  lines.push(flags);
  lines.push('bugs\t\t:');
  const lpj = c.loops_per_jiffy;
  lines.push(`bogomips\t: ${Math.floor(lpj / (500000 / HZ))}.${String(Math.floor(lpj / (5000 / HZ)) % 100).padStart(2, '0')}`);
  lines.push(`clflush size\t: ${c.x86_clflush_size}`);
  lines.push(`cache_alignment\t: ${c.x86_cache_alignment}`);
  lines.push(`address sizes\t: ${c.x86_phys_bits} bits physical, ${c.x86_virt_bits} bits virtual`);
  let pm = 'power management:';
  for (let i = 0; i < 32; i++) {
    if (!((c.x86_power >>> i) & 1)) continue;
    const name = i < x86_power_flags.length ? x86_power_flags[i] : null;
    if (name) pm += ' ' + name;
    else if (i >= x86_power_flags.length) pm += ` [${i}]`;
  }
  lines.push(pm);
  return lines.join('\n') + '\n\n';
}

/** The whole of /proc/cpuinfo. */
export function proc_cpuinfo_show(): string {
  return online_cpu_data().map(show_cpuinfo).join('');
}
