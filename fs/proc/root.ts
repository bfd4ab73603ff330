/**
 * proc_root_init (Linux fs/proc/root.c): /proc and /sys, and the files of fs/proc/
 * itself (Linux registers cpuinfo, cmdline, version, meminfo, buddyinfo and iomem
 * with fs_initcall from their own files; here proc_root_init runs those). Other
 * subsystems add theirs with proc_create / proc_register_dir (fs/proc/generic.ts),
 * from their own init functions: the registry is emptied at the start of each boot.
 */
import { proc_cmdline_init, proc_version_init } from './cmdline.js';
import { proc_cpuinfo_init } from './cpuinfo.js';
import { proc_mkdir } from './generic.js';
import { proc_meminfo_init } from './meminfo.js';
import { proc_iomem_init } from './iomem.js';
import { proc_buddyinfo_init } from './buddyinfo.js';

export function proc_root_init(banner: string): void {
  proc_mkdir('/proc');
  proc_mkdir('/sys');
  proc_cpuinfo_init();
  proc_cmdline_init();
  proc_version_init(banner);
  proc_meminfo_init();
  proc_iomem_init();
  proc_buddyinfo_init();
}
