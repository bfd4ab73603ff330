/**
 * The TSC's frequency (Linux: tsc_khz). Linux's native_calibrate_tsc() falls back to
 * CPUID leaf 16H's base frequency when leaf 15H gives no crystal ratio, and that is
 * what this machine offers; 2 GHz is assumed until tsc_init() has run (or if the leaf
 * reports nothing).
 */
import { cpuid } from './processor.js';

const FALLBACK_KHZ = 2_000_000;
let khz = FALLBACK_KHZ;

/** Boot, on the boot CPU: read CPUID.16H:EAX (base MHz). */
export function tsc_init(): void {
  const mhz = cpuid(0x16).eax;
  khz = mhz > 0 ? mhz * 1000 : FALLBACK_KHZ;
}

export function tsc_khz(): number { return khz; }

/** Cycles to nanoseconds at the boot CPU's TSC rate. */
export function cycles_to_ns(cycles: number): number { return Math.floor((cycles * 1e6) / khz); }
