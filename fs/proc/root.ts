/**
 * proc_root_init (Linux fs/proc/root.c): the entries procfs itself provides. Other
 * subsystems add theirs with proc_create / proc_register_dir (fs/proc/generic.ts),
 * from their own init functions: the registry is emptied at the start of each boot.
 */
import { proc_cmdline_init, proc_version_init } from './cmdline.js';
import { proc_cpuinfo_init } from './cpuinfo.js';
import { proc_mkdir } from './generic.js';

export function proc_root_init(banner: string): void {
  proc_mkdir('/proc');
  proc_mkdir('/sys');
  proc_cpuinfo_init();
  proc_cmdline_init();
  proc_version_init(banner);
}
