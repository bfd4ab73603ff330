/**
 * syslog(2) (Linux kernel/printk/printk.c do_syslog and check_syslog_permissions): the
 * actions util-linux dmesg uses besides reading. Clearing the buffer and setting the
 * console level need CAP_SYSLOG (check_syslog_permissions); reading is open to everyone
 * (dmesg_restrict=0).
 */
import { EINVAL, EPERM } from './errno.js';
import { set_console_loglevel, syslog_clear } from './printk.js';
import { CAP_SYSLOG, capable } from './capability.js';

export const SYSLOG_ACTION_READ_ALL = 3;
export const SYSLOG_ACTION_READ_CLEAR = 4;
export const SYSLOG_ACTION_CLEAR = 5;
export const SYSLOG_ACTION_CONSOLE_LEVEL = 8;

/** minimum_console_loglevel (include/linux/printk.h). */
const MINIMUM_CONSOLE_LOGLEVEL = 1;

function syslog_privileged(): boolean { return capable(CAP_SYSLOG); }

/** do_syslog() for CLEAR, READ_CLEAR's clear half and CONSOLE_LEVEL: 0 or -errno. */
export function do_syslog(type: number, len = 0): number {
  switch (type) {
    case SYSLOG_ACTION_READ_ALL:
      return 0;
    case SYSLOG_ACTION_CLEAR:
    case SYSLOG_ACTION_READ_CLEAR:
      if (!syslog_privileged()) return -EPERM;
      syslog_clear();
      return 0;
    case SYSLOG_ACTION_CONSOLE_LEVEL:
      if (!syslog_privileged()) return -EPERM;
      if (!Number.isInteger(len) || len < 1 || len > 8) return -EINVAL;
      set_console_loglevel(Math.max(len, MINIMUM_CONSOLE_LOGLEVEL));
      return 0;
    default:
      return -EINVAL;
  }
}
