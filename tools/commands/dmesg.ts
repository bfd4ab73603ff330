/**
 * dmesg: util-linux's dmesg over the kernel log, `[    0.000123] message` a line.
 * Options as util-linux spells them (getopt_long):
 *   -r/--raw  `<6>[    0.000123] message` (facility<<3 | level, all kernel here)
 *   -x/--decode  `kern  :info  : [    0.000123] message`
 *   -t/--notime  no timestamp      -k/--kernel  kernel messages (all of them here)
 *   -l/--level LIST  only these levels (names or numbers, comma-separated)
 *   -c/--read-clear  print, then clear      -C/--clear  clear only
 *   -n/--console-level LEVEL  set the console log level (1-8, or a name: emerg = 1)
 *   -h/--help, -V/--version
 * Clearing and the console level need CAP_SYSLOG (`dmesg: klogctl failed: Operation
 * not permitted`, exit 1). A bad option or operand: util-linux's words, exit 1.
 */
import { syslog_records, format_timestamp } from '../../kernel/printk.js';
import {
  SYSLOG_ACTION_CLEAR, SYSLOG_ACTION_CONSOLE_LEVEL, SYSLOG_ACTION_READ_CLEAR, do_syslog,
} from '../../kernel/syslog.js';
import { strerror } from '../../kernel/errno.js';
import type { Command, ShellIo } from '../registry.js';
import type { KernelShellContext } from '../context.js';
import { getopt_long, type LongOption } from '../lib/getopt_long.js';
import { asTool } from './msr_tool.js';

/** level_names[] of util-linux dmesg.c, with their help text. */
const LEVELS: [string, string][] = [
  ['emerg', 'system is unusable'], ['alert', 'action must be taken immediately'],
  ['crit', 'critical conditions'], ['err', 'error conditions'], ['warn', 'warning conditions'],
  ['notice', 'normal but significant condition'], ['info', 'informational'], ['debug', 'debug-level messages'],
];

const LONG: LongOption[] = [
  { name: 'clear', has_arg: 0, val: 'C' }, { name: 'read-clear', has_arg: 0, val: 'c' },
  { name: 'decode', has_arg: 0, val: 'x' }, { name: 'help', has_arg: 0, val: 'h' },
  { name: 'kernel', has_arg: 0, val: 'k' }, { name: 'level', has_arg: 1, val: 'l' },
  { name: 'console-level', has_arg: 1, val: 'n' }, { name: 'raw', has_arg: 0, val: 'r' },
  { name: 'notime', has_arg: 0, val: 't' }, { name: 'version', has_arg: 0, val: 'V' },
];

export const DMESG_HELP =
  '\nUsage:\n dmesg [options]\n\nDisplay or control the kernel ring buffer.\n\nOptions:\n' +
  ' -C, --clear                 clear the kernel ring buffer\n' +
  ' -c, --read-clear            read and clear all messages\n' +
  ' -k, --kernel                display kernel messages\n' +
  ' -l, --level <list>          restrict output to defined levels\n' +
  ' -n, --console-level <level> set level of messages printed to console\n' +
  ' -r, --raw                   print the raw message buffer\n' +
  ' -t, --notime                don\'t show any timestamp with messages\n' +
  ' -x, --decode                decode facility and level to readable string\n' +
  '\n -h, --help                  display this help\n -V, --version               display version\n' +
  '\nSupported log facilities:\n    kern - kernel messages\n' +
  '\nSupported log levels (priorities):\n' +
  LEVELS.map(([n, h]) => `${n.padStart(8)} - ${h}\n`).join('') +
  '\nFor more details see dmesg(1).\n';

const TRY = "Try 'dmesg --help' for more information.\n";

/**
 * parse_level(): a level number or a name; null if neither. For -n (`offset` 1) the
 * console level means "print levels below it", so numbers run 1-8 and a name is its
 * level + 1 (`-n debug` = `-n 8`).
 */
function parseLevel(s: string, offset = 0): number | null {
  if (/^[0-9]/.test(s)) {
    const x = Number(s) - offset;
    return /^[0-9]+$/.test(s) && x >= 0 && x < LEVELS.length ? x + offset : null;
  }
  const i = LEVELS.findIndex(([n]) => n === s.toLowerCase());
  return i < 0 ? null : i + offset;
}

function dmesg(args: string[], io: ShellIo): number {
  const g = getopt_long('dmesg', args, 'CchkLl:n:rtVx', LONG, io.err);
  let raw = false, decode = false, notime = false;
  let levels: Set<number> | null = null;
  let action: 'read' | 'read-clear' | 'clear' | 'console' = 'read';
  let console = 0;
  for (const [o, arg] of g.opts) {
    switch (o) {
      case 'C': action = 'clear'; break;
      case 'c': action = 'read-clear'; break;
      case 'x': decode = true; break;
      case 'r': raw = true; break;
      case 't': notime = true; break;
      case 'k': case 'L': break;
      case 'h': io.out(DMESG_HELP); return 0;
      case 'V': io.out('dmesg from util-linux 2.39.3\n'); return 0;
      case 'l': {
        levels = new Set();
        for (const w of arg!.split(',')) {
          const l = parseLevel(w);
          if (l === null) { io.err(`dmesg: unknown level '${w}'\n`); return 1; }
          levels.add(l);
        }
        break;
      }
      case 'n': {
        const l = parseLevel(arg!, 1);
        if (l === null) { io.err(`dmesg: unknown level '${arg}'\n`); return 1; }
        console = l;
        action = 'console';
        break;
      }
      default: io.err(TRY); return 1;
    }
  }
  if (g.rest.length) { io.err(`dmesg: bad usage\n${TRY}`); return 1; }
  if (action === 'console' || action === 'clear') {
    const err = do_syslog(action === 'clear' ? SYSLOG_ACTION_CLEAR : SYSLOG_ACTION_CONSOLE_LEVEL, console);
    if (err) { io.err(`dmesg: ${action === 'clear' ? 'clear kernel buffer' : 'klogctl'} failed: ${strerror(err)}\n`); return 1; }
    return 0;
  }
  const records = syslog_records();
  if (action === 'read-clear') {
    // klogctl(SYSLOG_ACTION_READ_CLEAR): the read and the clear are one privileged call.
    const err = do_syslog(SYSLOG_ACTION_READ_CLEAR);
    if (err) { io.err(`dmesg: read kernel buffer failed: ${strerror(err)}\n`); return 1; }
  }
  let out = '';
  for (const r of records) {
    if (levels && !levels.has(r.level)) continue;
    const prefix = raw ? `<${r.level}>` : decode ? `kern  :${LEVELS[r.level][0].padEnd(6)}: ` : '';
    out += `${prefix}${notime ? '' : format_timestamp(r.ns) + ' '}${r.text}\n`;
  }
  io.out(out);
  return 0;
}

export const dmesgCommand: Command<KernelShellContext> = {
  name: 'dmesg',
  usage: 'dmesg [options]',
  summary: 'print or control the kernel log (util-linux dmesg)',
  help: DMESG_HELP.split('Options:\n')[1].split('\nSupported')[0].trimEnd(),
  run(ctx, args, io) { return asTool(ctx, 'dmesg', () => dmesg(args, io)); },
};
