/**
 * printk: the kernel log. Messages go into a ring buffer with a virtual-clock
 * timestamp (the boot CPU's TSC at 2 GHz) and, when their level is below the console
 * loglevel, to the console sink. `dmesg` prints the buffer in Linux's format:
 * `[    0.000123] message`.
 */
import { rdtsc } from '../arch/x86/include/asm/processor.js';
import { cycles_to_ns } from '../arch/x86/include/asm/tsc.js';

export const KERN_EMERG = 0;
export const KERN_ALERT = 1;
export const KERN_CRIT = 2;
export const KERN_ERR = 3;
export const KERN_WARNING = 4;
export const KERN_NOTICE = 5;
export const KERN_INFO = 6;
export const KERN_DEBUG = 7;

const LOG_BUF_LEN = 4096; // records

interface Record { ns: number; level: number; text: string; seq: number }

let log: Record[] = [];
/** Sequence number of the next record, and the first one syslog READ_ALL shows (CLEAR moves it). */
let next_seq = 0;
let clear_seq = 0;
let onceKeys = new Set<string>();
let console_loglevel = 7;
let consoleSink: ((line: string) => void) | null = null;
/** Consoles registered by drivers (register_console), besides the boot sink. */
let consoles: ((line: string) => void)[] = [];
let clockSource: () => number = () => 0;

/** Reset the log for a new boot; `sink` receives console lines (or null for none). */
export function printk_init(sink: ((line: string) => void) | null): void {
  log = [];
  next_seq = clear_seq = 0;
  onceKeys = new Set();
  console_loglevel = 7;
  tsc_last = tsc_base = 0;
  consoleSink = sink;
  consoles = [];
  clockSource = () => { try { return rdtsc(); } catch { return 0; } };
}

/** loglevel= on the command line. */
export function set_console_loglevel(level: number): void { console_loglevel = level; }
export function get_console_loglevel(): number { return console_loglevel; }

/**
 * Timestamps stay monotonic across a TSC reset (S3 resets it; Linux's sched_clock keeps
 * counting from where it was): a TSC below the last one seen adds an offset.
 */
let tsc_last = 0;
let tsc_base = 0;
function ns_now(): number {
  const t = clockSource();
  if (t + tsc_base < tsc_last) tsc_base = tsc_last - t;
  tsc_last = t + tsc_base;
  return cycles_to_ns(tsc_last);
}

/** local_clock(): the kernel's monotonic clock in nanoseconds (what stamps the log). */
export function local_clock(): number { return ns_now(); }

export function printk(level: number, text: string): void {
  for (const line of text.replace(/\n$/, '').split('\n')) {
    const rec = { ns: ns_now(), level, text: line, seq: next_seq++ };
    log.push(rec);
    if (log.length > LOG_BUF_LEN) log.shift();
    if (level < console_loglevel) {
      if (consoleSink) consoleSink(format(rec));
      for (const con of consoles) con(format(rec));
    }
  }
}

/**
 * register_console (kernel/printk/printk.c) for a console with CON_PRINTBUFFER: it
 * first gets the records logged so far (at the console loglevel), then every new one.
 * A serial driver registers its port here (drivers/tty/serial/8250.ts).
 */
export function register_console(write: (line: string) => void): void {
  for (const rec of log) if (rec.level < console_loglevel) write(format(rec));
  consoles.push(write);
}

export const pr_emerg = (s: string): void => printk(KERN_EMERG, s);
export const pr_err = (s: string): void => printk(KERN_ERR, s);
export const pr_warn = (s: string): void => printk(KERN_WARNING, s);
export const pr_notice = (s: string): void => printk(KERN_NOTICE, s);
export const pr_info = (s: string): void => printk(KERN_INFO, s);
/**
 * pr_debug(): compiled out, as in a kernel built without DEBUG (and before
 * dynamic_debug_init for boot messages): the record never reaches the log.
 */
export const pr_debug = (_s: string): void => {};

/**
 * This tree's own messages, which Linux does not print: marked with TREE_PREFIX so a
 * reader of the log never takes them for mainline's.
 */
export const TREE_PREFIX = 'mktme-kernel: ';
export const pr_info_tree = (s: string): void => printk(KERN_INFO, TREE_PREFIX + s);

/**
 * pr_*_once (include/linux/printk.h, DO_ONCE_LITE): print only the first time a call
 * site fires in this boot. Linux keys on the call site itself; here the key is the text,
 * or `site` for a call site whose text varies.
 */
function once(level: number, s: string, site: string): void {
  if (onceKeys.has(site)) return;
  onceKeys.add(site);
  printk(level, s);
}
export const pr_info_once = (s: string, site = s): void => once(KERN_INFO, s, site);
export const pr_warn_once = (s: string, site = s): void => once(KERN_WARNING, s, site);
export const pr_err_once = (s: string, site = s): void => once(KERN_ERR, s, site);

function format(r: Record): string {
  return `${format_timestamp(r.ns)} ${r.text}`;
}

/** The whole buffer, one formatted line per record (what `dmesg` prints). */
export function dmesg(): string[] { return log.map(format); }

/** SYSLOG_ACTION_CLEAR: later READ_ALLs start after what is in the buffer now. */
export function syslog_clear(): void { clear_seq = next_seq; }

/** The records SYSLOG_ACTION_READ_ALL (and /dev/kmsg after SEEK_DATA) returns. */
export function syslog_records(): readonly Record[] { return log.filter((r) => r.seq >= clear_seq); }

/** `[    0.000123]`: a record's timestamp as printk prints it. */
export function format_timestamp(ns: number): string {
  const sec = Math.floor(ns / 1e9);
  const usec = Math.floor((ns % 1e9) / 1e3);
  return `[${String(sec).padStart(5)}.${String(usec).padStart(6, '0')}]`;
}

/** Raw records, for tests and /dev/kmsg-like readers. */
export function log_records(): readonly Record[] { return log; }

/** printf-style %#llx as Linux prints it: 0x-prefixed lowercase hex, "0" for zero. */
export function fmt_llx_alt(v: bigint | number): string {
  const b = BigInt(v);
  return b === 0n ? '0' : '0x' + b.toString(16);
}
