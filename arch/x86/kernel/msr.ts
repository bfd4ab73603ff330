/**
 * The MSR driver (Linux arch/x86/kernel/msr.c, /dev/cpu/N/msr, and lib/msr-smp.c):
 * RDMSR/WRMSR on a chosen CPU for user-space tools (msr-tools' rdmsr/wrmsr), which
 * open /dev/cpu/N/msr and pread/pwrite 8 bytes at offset = the MSR's index.
 *
 *   open   CAP_SYS_RAWIO or -EPERM; the CPU online or -ENXIO; X86_FEATURE_MSR or -EIO
 *          (msr_open, in that order; the node itself is crw------- root:root, so an
 *          ordinary user is refused by its mode, -EACCES, before the driver is asked)
 *   read   count a multiple of 8 (-EINVAL); each 8 bytes is RDMSR of MSR *ppos (u32)
 *          on the CPU; a #GP is caught (rdmsr_safe) and is -EIO
 *   write  the same with WRMSR
 *
 * Registered as major 202 ("cpu/msr") with one node per online CPU by msr_init (Linux:
 * module_init, here a late initcall run after SMP bring-up).
 *
 * Writes go through filter_write() first, with Linux's msr.allow_writes=on|off|default:
 * `default` (this kernel keeps no list of MSRs user space may write, like Linux) allows
 * every write and logs it as Linux does, "msr: Write to unrecognized MSR 0x%x by %s
 * (pid: %d).", at most once every 30 seconds; `on` allows silently; `off` refuses with
 * -EPERM.
 */
import { cpu_waiting, rdmsrl_safe, smp_call_function_single, wrmsrl_safe } from '../include/asm/processor.js';
import { X86_FEATURE_MSR } from '../include/asm/cpufeatures.js';
import { cpu_data, cpu_has } from './cpu/common.js';
import { cpu_online, online_cpus } from './smpboot.js';
import { CAP_SYS_RAWIO, capable } from '../../../kernel/capability.js';
import { EDEADLK, EINVAL, EIO, ENXIO, EPERM } from '../../../kernel/errno.js';
import { pr_warn } from '../../../kernel/printk.js';
import { __ratelimit, ratelimit_state_init, type ratelimit_state } from '../../../kernel/ratelimit.js';
import { current } from '../../../kernel/sched.js';
import { module_param, type kernel_param_ops } from '../../../kernel/params.js';
import { register_chrdev } from '../../../fs/char_dev.js';
import { devtmpfs_create_node } from '../../../fs/devtmpfs.js';
import { MINOR, type file, type file_operations } from '../../../fs/file.js';
import { TAINT_CPU_OUT_OF_SPEC, add_taint } from '../../../kernel/panic.js';

export const MSR_MAJOR = 202;

/** rdmsr_safe_on_cpu(): the value, or err = -EIO on #GP; -EDEADLK when `cpu` is
 *  waiting for this one (a guest's IPI chain, asm/processor.ts). */
export function rdmsr_safe_on_cpu(cpu: number, msr: number): { err: number; val: bigint } {
  if (cpu_waiting(cpu)) return { err: -EDEADLK, val: 0n };
  return smp_call_function_single(cpu, () => rdmsrl_safe(msr));
}

/** wrmsr_safe_on_cpu(): 0, or -EIO on #GP; -EDEADLK as rdmsr_safe_on_cpu. */
export function wrmsr_safe_on_cpu(cpu: number, msr: number, val: bigint): number {
  if (cpu_waiting(cpu)) return -EDEADLK;
  return smp_call_function_single(cpu, () => wrmsrl_safe(msr, val));
}

function file_cpu(f: file): number { return MINOR(f.f_inode.i_rdev); }

/** u32 reg = *ppos. */
function ppos_reg(pos: number): number { return pos % 2 ** 32; }

const msr_fops: file_operations = {
  open(inode) {
    const cpu = MINOR(inode.i_rdev);
    if (!capable(CAP_SYS_RAWIO)) return -EPERM;
    if (!cpu_online(cpu)) return -ENXIO; // No such CPU
    if (!cpu_has(cpu_data(cpu), X86_FEATURE_MSR)) return -EIO; // MSR not supported
    return 0;
  },
  read(f, buf, pos) {
    if (buf.length % 8) return -EINVAL;
    const reg = ppos_reg(pos);
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    let bytes = 0;
    let err = 0;
    for (; bytes < buf.length; bytes += 8) {
      const r = rdmsr_safe_on_cpu(file_cpu(f), reg);
      if (r.err) { err = r.err; break; }
      view.setBigUint64(bytes, r.val, true);
    }
    return bytes ? bytes : err;
  },
  write(f, buf, pos) {
    const reg = ppos_reg(pos);
    const filtered = filter_write(reg);
    if (filtered) return filtered;
    if (buf.length % 8) return -EINVAL;
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    let bytes = 0;
    let err = 0;
    for (; bytes < buf.length; bytes += 8) {
      // Linux's msr_write taints before every write that passed the filter: whatever
      // user space does to an MSR, the CPU may now run out of specification.
      add_taint(TAINT_CPU_OUT_OF_SPEC);
      err = wrmsr_safe_on_cpu(file_cpu(f), reg, view.getBigUint64(bytes, true));
      if (err) break;
    }
    return bytes ? bytes : err;
  },
  // msr_seek: SEEK_SET and SEEK_CUR within u32 register numbers (no_seek_end_llseek)
  llseek(f, offset, whence) {
    const pos = whence === 0 ? offset : whence === 1 ? f.f_pos + offset : -1;
    return pos >= 0 ? pos : -EINVAL;
  },
};

/* MSRs writes usually happen all at once, and can easily saturate kmsg: one message
 * every 30 seconds (msr.c: DEFINE_RATELIMIT_STATE(fw_rs, 30 * HZ, 1)). */
let fw_rs: ratelimit_state = ratelimit_state_init(30_000, 1);

type allow_write_msrs = 'on' | 'off' | 'default';
/** set_allow_writes/get_allow_writes: "on", "off", anything else is "default". */
const allow_writes_ops: kernel_param_ops<allow_write_msrs> = {
  set(val, kp) {
    const v = (val ?? '').trim();
    kp.value = v === 'on' || v === 'off' ? v : 'default';
    return 0;
  },
  get: (kp) => kp.value,
};
const allow_writes = module_param('msr', 'allow_writes', allow_writes_ops, 'default');

/** filter_write(): 0 to let the write go ahead (warning, rate-limited), or -EPERM. */
function filter_write(reg: number): number {
  if (allow_writes.value === 'on') return 0;
  if (allow_writes.value === 'off') return -EPERM;
  if (!__ratelimit(fw_rs)) return 0;
  const tsk = current();
  pr_warn(`msr: Write to unrecognized MSR 0x${reg.toString(16)} by ${tsk.comm} (pid: ${tsk.pid}).`);
  pr_warn('msr: See https://git.kernel.org/pub/scm/linux/kernel/git/tip/tip.git/about for details.');
  return 0;
}

/** msr_init: the driver and /dev/cpu/N/msr (crw------- root:root) for every online CPU. */
export function msr_init(): number {
  fw_rs = ratelimit_state_init(30_000, 1);
  const ret = register_chrdev(MSR_MAJOR, 'cpu/msr', msr_fops);
  if (ret < 0) return ret;
  for (const cpu of online_cpus()) devtmpfs_create_node(`/dev/cpu/${cpu}/msr`, MSR_MAJOR, cpu, 0o600);
  return 0;
}
