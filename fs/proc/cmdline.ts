/**
 * /proc/cmdline (Linux fs/proc/cmdline.c): the command line the boot loader passed,
 * followed by a newline; and /proc/version (fs/proc/version.c): the banner.
 */
import { get_saved_command_line } from '../../kernel/params.js';
import { proc_create } from './generic.js';

export function proc_cmdline_init(): void {
  proc_create('/proc/cmdline', () => get_saved_command_line() + '\n');
}

export function proc_version_init(banner: string): void {
  proc_create('/proc/version', () => banner + '\n');
}
