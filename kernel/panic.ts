/**
 * panic() and the taint flags (Linux kernel/panic.c).
 *
 * panic(msg) prints "Kernel panic - not syncing: MSG" and the closing
 * "---[ end Kernel panic - not syncing: MSG ]---", then the system stops: here it
 * throws KernelPanic, which whoever runs the machine (the shell, a test) catches; the
 * kernel is not entered again until the machine is reset and booted.
 *
 * Taints: after an oops the kernel is tainted 'D' (TAINT_DIE), and every later oops
 * header says so ("Tainted: G      D           "), as print_tainted() formats it. The
 * flags are per kernel instance and cleared at boot (panic_init).
 */
import { pr_emerg } from './printk.js';

/** A kernel panic: the kernel cannot go on. */
export class KernelPanic extends Error {
  constructor(message: string) { super(`Kernel panic - not syncing: ${message}`); this.name = 'KernelPanic'; }
}

/* taint_flags[] order of Linux 6.8: P F S R M B U D A W C I O E L K X T N */
const TAINT_CHARS = 'PFSRMBUDAWCIOELKXTN';
export const TAINT_CPU_OUT_OF_SPEC = 2;
export const TAINT_MACHINE_CHECK = 4;
export const TAINT_BAD_PAGE = 5;
export const TAINT_DIE = 7;
export const TAINT_WARN = 9;

let tainted_mask = 0;
let panicked: string | null = null;

/** Boot: untainted, not panicked. */
export function panic_init(): void {
  tainted_mask = 0;
  panicked = null;
}

/** add_taint(flag). */
export function add_taint(flag: number): void {
  tainted_mask |= 1 << flag;
}

export function test_taint(flag: number): boolean { return (tainted_mask & (1 << flag)) !== 0; }

/** print_tainted(): "Not tainted" or "Tainted: " and one column per flag. */
export function print_tainted(): string {
  if (!tainted_mask) return 'Not tainted';
  let s = 'Tainted: ';
  for (let i = 0; i < TAINT_CHARS.length; i++) {
    const set = (tainted_mask & (1 << i)) !== 0;
    s += set ? TAINT_CHARS[i] : i === 0 ? 'G' : ' ';
  }
  return s;
}

/** panic(): never returns. */
export function panic(msg: string): never {
  if (panicked === null) {
    panicked = msg;
    pr_emerg(`Kernel panic - not syncing: ${msg}`);
    pr_emerg(`---[ end Kernel panic - not syncing: ${msg} ]---`);
  }
  throw new KernelPanic(msg);
}
