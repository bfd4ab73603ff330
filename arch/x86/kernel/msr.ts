/**
 * The MSR driver (Linux arch/x86/kernel/msr.c, /dev/cpu/N/msr, and lib/msr-smp.c):
 * RDMSR/WRMSR on a chosen CPU for user-space tools (msr-tools' rdmsr/wrmsr). A #GP from
 * the instruction is caught (rdmsr_safe) and becomes -EIO, as pread()/pwrite() on the
 * device return; a CPU that does not exist or is offline is -ENXIO; a CPU without the
 * MSR feature is -EIO (msr_open).
 *
 * Writes go through filter_write() first: this kernel keeps no list of MSRs that user
 * space may write (Linux's allow_writes=default), so every write is allowed and logged
 * as Linux logs it, "msr: Write to unrecognized MSR 0x%x by %s (pid: %d).", at most
 * once every 30 seconds.
 */
import { rdmsrl_safe, smp_call_function_single, smp_processor_id, wrmsrl_safe } from '../include/asm/processor.js';
import { X86_FEATURE_MSR } from '../include/asm/cpufeatures.js';
import { cpu_data, cpu_has } from './cpu/common.js';
import { cpu_online } from './smpboot.js';
import { EINVAL, EIO, ENXIO } from '../../../kernel/errno.js';
import { pr_warn } from '../../../kernel/printk.js';
import { __ratelimit, ratelimit_state_init, type ratelimit_state } from '../../../kernel/ratelimit.js';
import { cpu_curr } from '../../../kernel/sched.js';
import { late_initcall } from '../../../init/main.js';

// errno values (include/uapi/asm-generic/errno-base.h).

/** rdmsr_safe_on_cpu(): the value, or err = -EIO on #GP. */
export function rdmsr_safe_on_cpu(cpu: number, msr: number): { err: number; val: bigint } {
  return smp_call_function_single(cpu, () => rdmsrl_safe(msr));
}

/** wrmsr_safe_on_cpu(): 0, or -EIO on #GP. */
export function wrmsr_safe_on_cpu(cpu: number, msr: number, val: bigint): number {
  return smp_call_function_single(cpu, () => wrmsrl_safe(msr, val));
}

/** msr_open(): may user space use CPU `cpu`'s MSR device? 0 or -errno. */
export function msr_open(cpu: number): number {
  if (!Number.isInteger(cpu) || cpu < 0 || !cpu_online(cpu)) return -ENXIO;
  if (!cpu_has(cpu_data(cpu), X86_FEATURE_MSR)) return -EIO;
  return 0;
}

function valid_reg(reg: number): boolean { return Number.isInteger(reg) && reg >= 0 && reg <= 0xffffffff; }

/** msr_read(): pread(fd, 8, reg) on /dev/cpu/CPU/msr. */
export function msr_read(cpu: number, reg: number): { err: number; val: bigint } {
  const err = msr_open(cpu);
  if (err) return { err, val: 0n };
  if (!valid_reg(reg)) return { err: -EINVAL, val: 0n };
  return rdmsr_safe_on_cpu(cpu, reg);
}

/* MSRs writes usually happen all at once, and can easily saturate kmsg: one message
 * every 30 seconds (msr.c: DEFINE_RATELIMIT_STATE(fw_rs, 30 * HZ, 1)). */
let fw_rs: ratelimit_state = ratelimit_state_init(30_000, 1);

/** msr_init(): a new boot starts with a fresh rate limit. */
function msr_init(): number {
  fw_rs = ratelimit_state_init(30_000, 1);
  return 0;
}
late_initcall(msr_init, 'msr_init');

/** filter_write(): 0 to let the write go ahead (warning, rate-limited), or -EPERM. */
function filter_write(reg: number): number {
  if (!__ratelimit(fw_rs)) return 0;
  const tsk = cpu_curr(smp_processor_id());
  pr_warn(`msr: Write to unrecognized MSR 0x${reg.toString(16)} by ${tsk ? tsk.comm : 'swapper'} (pid: ${tsk ? tsk.pid : 0}).`);
  pr_warn('msr: See https://git.kernel.org/pub/scm/linux/kernel/git/tip/tip.git/about for details.');
  return 0;
}

/** msr_write(): pwrite(fd, &val, 8, reg) on /dev/cpu/CPU/msr. */
export function msr_write(cpu: number, reg: number, val: bigint): number {
  let err = msr_open(cpu);
  if (err) return err;
  if (!valid_reg(reg) || typeof val !== 'bigint' || val < 0n || val >= 1n << 64n) return -EINVAL;
  err = filter_write(reg);
  if (err) return err;
  return wrmsr_safe_on_cpu(cpu, reg, val);
}
