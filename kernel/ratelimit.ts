/**
 * Rate limiting (Linux lib/ratelimit.c, include/linux/ratelimit_types.h): at most
 * `burst` events per `interval`, on the kernel's clock (local_clock, nanoseconds).
 */
import { local_clock } from './printk.js';

export interface ratelimit_state {
  interval_ns: number;
  burst: number;
  printed: number;
  missed: number;
  /** Start of the current interval; -1 before the first event. */
  begin: number;
}

/** DEFINE_RATELIMIT_STATE(name, interval, burst), the interval in milliseconds. */
export function ratelimit_state_init(interval_ms: number, burst: number): ratelimit_state {
  return { interval_ns: interval_ms * 1e6, burst, printed: 0, missed: 0, begin: -1 };
}

/** __ratelimit(): true if this event may go ahead. */
export function __ratelimit(rs: ratelimit_state): boolean {
  if (!rs.interval_ns) return true;
  const now = local_clock();
  if (rs.begin < 0) rs.begin = now;
  if (now >= rs.begin + rs.interval_ns) {
    rs.begin = now;
    rs.printed = 0;
  }
  if (rs.burst && rs.burst > rs.printed) {
    rs.printed++;
    return true;
  }
  rs.missed++;
  return false;
}
