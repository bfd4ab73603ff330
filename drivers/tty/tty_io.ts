/**
 * Terminals (Linux drivers/tty/tty_io.c and the n_tty line discipline, reduced to what
 * a serial console needs): a tty has a driver that writes bytes out, and a canonical-
 * mode input side that collects received bytes into lines.
 *
 *  - tty_insert_flip_string (from the driver's receive interrupt) appends bytes;
 *    '\r' is turned into '\n' (ICRNL), backspace/DEL erase (VERASE), and each complete
 *    line goes to the reader. Echo is off ("stty -echo"): the terminal on the other
 *    side shows what its user types.
 *  - A reader is the task blocked in read(2) on the tty. Since a task here cannot
 *    sleep in the middle of a call, the reader registers what it does with each line
 *    (tty_set_reader); the line is handed over on the way out of the interrupt that
 *    completed it (irq_exit_queue), which is when the woken reader would run.
 *  - tty_write goes straight to the driver (OPOST|ONLCR: '\n' becomes "\r\n").
 */
import { irq_exit_queue } from '../../arch/x86/kernel/idt.js';

export interface tty_driver_ops { write(bytes: Uint8Array): void }

export interface tty_struct {
  name: string;
  ops: tty_driver_ops;
  /** The line being typed. */
  line: number[];
  /** Complete lines no reader took yet. */
  queued: string[];
  reader: ((line: string) => void) | null;
}

let ttys = new Map<string, tty_struct>();

export function tty_init(): void { ttys = new Map(); }

export function tty_register_device(name: string, ops: tty_driver_ops): tty_struct {
  const tty: tty_struct = { name, ops, line: [], queued: [], reader: null };
  ttys.set(name, tty);
  return tty;
}

export function tty_lookup(name: string): tty_struct | null { return ttys.get(name) ?? null; }

/** Received bytes (the driver's interrupt handler). */
export function tty_insert_flip_string(tty: tty_struct, bytes: Uint8Array): void {
  for (const b of bytes) {
    if (b === 0x0d || b === 0x0a) {
      const text = new TextDecoder().decode(Uint8Array.from(tty.line));
      tty.line = [];
      tty.queued.push(text);
    } else if (b === 0x08 || b === 0x7f) {
      tty.line.pop();
    } else {
      tty.line.push(b);
    }
  }
  if (tty.queued.length && tty.reader) irq_exit_queue(() => tty_deliver(tty));
}

function tty_deliver(tty: tty_struct): void {
  while (tty.reader && tty.queued.length) tty.reader(tty.queued.shift()!);
}

/** The reader of `tty` (null: nobody reads; lines wait). */
export function tty_set_reader(tty: tty_struct, reader: ((line: string) => void) | null): void {
  tty.reader = reader;
  if (reader && tty.queued.length) irq_exit_queue(() => tty_deliver(tty));
}

/** write(2) on the tty: output processing, then the driver. */
export function tty_write(tty: tty_struct, text: string): void {
  tty.ops.write(new TextEncoder().encode(text.replace(/\r?\n/g, '\r\n')));
}
