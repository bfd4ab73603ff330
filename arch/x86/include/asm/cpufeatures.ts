/**
 * CPU feature bits and their /proc/cpuinfo names (Linux asm/cpufeatures.h and the
 * generated x86_cap_flags[]). A feature is word*32+bit; each word is one CPUID register
 * (or a Linux-defined word), so /proc/cpuinfo lists flags in this order.
 *
 * Only the words this kernel fills are named: 0 (1:EDX), 1 (80000001H:EDX),
 * 3 (Linux-defined), 4 (1:ECX), 6 (80000001H:ECX), 9 (7.0:EBX), 16 (7.0:ECX),
 * 18 (7.0:EDX). A bit without a name is kept in the capability words but not printed.
 */

export const NCAPINTS = 21;

export const CPUID_1_EDX = 0;
export const CPUID_8000_0001_EDX = 1;
export const CPUID_LNX_1 = 3;
export const CPUID_1_ECX = 4;
export const CPUID_8000_0001_ECX = 6;
export const CPUID_7_0_EBX = 9;
export const CPUID_7_ECX = 16;
export const CPUID_7_EDX = 18;

const f = (word: number, bit: number): number => word * 32 + bit;

export const X86_FEATURE_FPU = f(0, 0);
export const X86_FEATURE_TSC = f(0, 4);
export const X86_FEATURE_MSR = f(0, 5);
export const X86_FEATURE_PAE = f(0, 6);
export const X86_FEATURE_APIC = f(0, 9);
export const X86_FEATURE_PGE = f(0, 13);
export const X86_FEATURE_CLFLUSH = f(0, 19);
export const X86_FEATURE_HT = f(0, 28);
export const X86_FEATURE_NX = f(1, 20);
export const X86_FEATURE_GBPAGES = f(1, 26);
export const X86_FEATURE_LM = f(1, 29);
export const X86_FEATURE_CONSTANT_TSC = f(3, 8);
export const X86_FEATURE_NONSTOP_TSC = f(3, 24);
export const X86_FEATURE_CPUID = f(3, 25);
export const X86_FEATURE_X2APIC = f(4, 21);
export const X86_FEATURE_HYPERVISOR = f(4, 31);
export const X86_FEATURE_SMEP = f(9, 7);
export const X86_FEATURE_CLFLUSHOPT = f(9, 23);
/** "tme": Intel Total Memory Encryption, CPUID.(7,0):ECX[13] (SDM Vol. 2A, CPUID). */
export const X86_FEATURE_TME = f(16, 13);
/** "pconfig": Intel PCONFIG, CPUID.(7,0):EDX[18] (SDM Vol. 2A, CPUID). */
export const X86_FEATURE_PCONFIG = f(18, 18);
/** "movdir64b": 64-byte direct stores, CPUID.(7,0):ECX[28] (SDM Vol. 2B MOVDIR64B). */
export const X86_FEATURE_MOVDIR64B = f(16, 28);

/** x86_cap_flags[]: feature number -> /proc/cpuinfo name (Linux's spellings). */
export const x86_cap_flags: Readonly<Record<number, string>> = (() => {
  const names: Record<number, string> = {};
  const word = (w: number, list: (string | null)[]): void => {
    list.forEach((n, bit) => { if (n) names[f(w, bit)] = n; });
  };
  word(0, ['fpu', 'vme', 'de', 'pse', 'tsc', 'msr', 'pae', 'mce', 'cx8', 'apic', null, 'sep',
    'mtrr', 'pge', 'mca', 'cmov', 'pat', 'pse36', 'pn', 'clflush', null, 'dts', 'acpi', 'mmx',
    'fxsr', 'sse', 'sse2', 'ss', 'ht', 'tm', 'ia64', 'pbe']);
  names[f(1, 11)] = 'syscall';
  names[f(1, 19)] = 'mp';
  names[f(1, 20)] = 'nx';
  names[f(1, 22)] = 'mmxext';
  names[f(1, 25)] = 'fxsr_opt';
  names[f(1, 26)] = 'pdpe1gb';
  names[f(1, 27)] = 'rdtscp';
  names[f(1, 29)] = 'lm';
  names[f(3, 8)] = 'constant_tsc';
  names[f(3, 24)] = 'nonstop_tsc';
  names[f(3, 25)] = 'cpuid';
  word(4, ['pni', 'pclmulqdq', 'dtes64', 'monitor', 'ds_cpl', 'vmx', 'smx', 'est', 'tm2', 'ssse3',
    'cid', 'sdbg', 'fma', 'cx16', 'xtpr', 'pdcm', null, 'pcid', 'dca', 'sse4_1', 'sse4_2', 'x2apic',
    'movbe', 'popcnt', 'tsc_deadline_timer', 'aes', 'xsave', null, 'avx', 'f16c', 'rdrand',
    'hypervisor']);
  word(6, ['lahf_lm', 'cmp_legacy', 'svm', 'extapic', 'cr8_legacy', 'abm', 'sse4a', 'misalignsse',
    '3dnowprefetch', 'osvw', 'ibs', 'xop', 'skinit', 'wdt']);
  word(9, ['fsgsbase', 'tsc_adjust', 'sgx', 'bmi1', 'hle', 'avx2', null, 'smep', 'bmi2', 'erms',
    'invpcid', 'rtm', 'cqm', null, 'mpx', 'rdt_a', 'avx512f', 'avx512dq', 'rdseed', 'adx', 'smap',
    'avx512ifma', null, 'clflushopt', 'clwb', 'intel_pt', 'avx512pf', 'avx512er', 'avx512cd',
    'sha_ni', 'avx512bw', 'avx512vl']);
  word(16, [null, 'avx512vbmi', 'umip', 'pku', 'ospke', 'waitpkg', 'avx512_vbmi2', null, 'gfni',
    'vaes', 'vpclmulqdq', 'avx512_vnni', 'avx512_bitalg', 'tme', 'avx512_vpopcntdq', null,
    'la57', null, null, null, null, null, 'rdpid', null, 'bus_lock_detect', 'cldemote', null,
    'movdiri', 'movdir64b', 'enqcmd', 'sgx_lc']);
  word(18, [null, null, 'avx512_4vnniw', 'avx512_4fmaps', 'fsrm', null, null, null,
    'avx512_vp2intersect', null, 'md_clear', null, null, null, 'serialize', null, 'tsxldtrk',
    null, 'pconfig', 'arch_lbr', null, null, 'amx_bf16', 'avx512_fp16', 'amx_tile', 'amx_int8',
    null, null, 'flush_l1d', 'arch_capabilities', null, null]);
  return names;
})();
