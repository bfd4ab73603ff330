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

interface Record { ns: number; level: number; text: string }

let log: Record[] = [];
let onceKeys = new Set<string>();
let console_loglevel = 7;
let consoleSink: ((line: string) => void) | null = null;
let clockSource: () => number = () => 0;

/** Reset the log for a new boot; `sink` receives console lines (or null for none). */
export function printk_init(sink: ((line: string) => void) | null): void {
  log = [];
  onceKeys = new Set();
  console_loglevel = 7;
  tsc_last = tsc_base = 0;
  consoleSink = sink;
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

export function printk(level: number, text: string): void {
  for (const line of text.replace(/\n$/, '').split('\n')) {
    const rec = { ns: ns_now(), level, text: line };
    log.push(rec);
    if (log.length > LOG_BUF_LEN) log.shift();
    if (consoleSink && level < console_loglevel) consoleSink(format(rec));
  }
}

export const pr_emerg = (s: string): void => printk(KERN_EMERG, s);
export const pr_err = (s: string): void => printk(KERN_ERR, s);
export const pr_warn = (s: string): void => printk(KERN_WARNING, s);
export const pr_notice = (s: string): void => printk(KERN_NOTICE, s);
export const pr_info = (s: string): void => printk(KERN_INFO, s);
export const pr_debug = (s: string): void => printk(KERN_DEBUG, s);

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
  const sec = Math.floor(r.ns / 1e9);
  const usec = Math.floor((r.ns % 1e9) / 1e3);
  return `[${String(sec).padStart(5)}.${String(usec).padStart(6, '0')}] ${r.text}`;
}

/** The whole buffer, one formatted line per record (what `dmesg` prints). */
export function dmesg(): string[] { return log.map(format); }

/** Raw records, for tests and /dev/kmsg-like readers. */
export function log_records(): readonly Record[] { return log; }

/** printf-style %#llx as Linux prints it: 0x-prefixed lowercase hex, "0" for zero. */
export function fmt_llx_alt(v: bigint | number): string {
  const b = BigInt(v);
  return b === 0n ? '0' : '0x' + b.toString(16);
}
