/**
 * The interrupt descriptor table (Linux arch/x86/kernel/idt.c, asm/desc_defs.h) and
 * external interrupt dispatch (arch/x86/kernel/irq.c common_interrupt).
 *
 * One page of 256 16-byte gates, loaded with LIDT on every CPU. A gate holds the code
 * address of its handler (isa.ts, "Execution model": a handle from registerCode), split
 * as the SDM's 64-bit interrupt gate splits an offset: bits 15:0, 31:16 and 63:32; byte
 * 5 is P | DPL 0 | type 0xE (interrupt gate). The table is built the first time a
 * driver asks for an interrupt (request_irq), so a machine without interrupt sources
 * never has one.
 *
 * ISA IRQ n arrives on vector ISA_IRQ_VECTOR(n) = 0x30 + n, as Linux numbers the legacy
 * PIC's lines (IRQ0_VECTOR = FIRST_EXTERNAL_VECTOR + 0x10). Interrupt delivery runs the
 * gate's routine; its return is IRET.
 */
import type { Routine } from '../hw/isa.js';
import { cpu_present, nr_cpu_ids, this_cpu, on_each_cpu } from '../include/asm/processor.js';
import { page_address } from '../mm/init.js';
import { GFP_KERNEL, __GFP_ZERO, alloc_pages } from '../../../mm/page_alloc.js';
import { ENOMEM, EBUSY, EINVAL } from '../../../kernel/errno.js';

export const IDT_ENTRIES = 256;
const GATE_SIZE = 16;
export const FIRST_EXTERNAL_VECTOR = 0x20;
export const ISA_IRQ_VECTOR = (irq: number): number => FIRST_EXTERNAL_VECTOR + 0x10 + irq;
const NR_LEGACY_IRQS = 16;
const GATE_INTERRUPT = 0xe;
const KERNEL_CS = 0x10;

type irq_handler_t = (irq: number) => void;

let idt_va = 0;
let handlers: (irq_handler_t | null)[] = [];
let names: string[] = [];
let counts: number[] = [];

/** Boot: no table yet, no handlers. */
export function idt_init(): void {
  idt_va = 0;
  handlers = new Array<irq_handler_t | null>(NR_LEGACY_IRQS).fill(null);
  names = new Array<string>(NR_LEGACY_IRQS).fill('');
  counts = new Array<number>(NR_LEGACY_IRQS).fill(0);
  deferred = [];
  in_irq = false;
}

/** pack_gate: the 16 bytes of an interrupt gate to code address `addr`. */
export function pack_gate(addr: number): Uint8Array {
  const g = new Uint8Array(GATE_SIZE);
  const lo32 = addr % 4294967296;
  const hi32 = Math.floor(addr / 4294967296);
  g[0] = lo32 & 0xff; g[1] = (lo32 >>> 8) & 0xff;
  g[2] = KERNEL_CS; g[3] = 0;
  g[4] = 0;
  g[5] = 0x80 | GATE_INTERRUPT; // P, DPL 0, interrupt gate
  g[6] = (lo32 >>> 16) & 0xff; g[7] = (lo32 >>> 24) & 0xff;
  for (let i = 0; i < 4; i++) g[8 + i] = (hi32 >>> (8 * i)) & 0xff;
  return g;
}

/** Allocate the table and load it on every CPU the kernel holds (an AP that starts
 *  later loads it itself: load_current_idt). */
function idt_setup(): number {
  if (idt_va) return 0;
  const pfn = alloc_pages(GFP_KERNEL | __GFP_ZERO, 0);
  if (pfn < 0) return -ENOMEM;
  idt_va = page_address(pfn);
  const present = Array.from({ length: nr_cpu_ids() }, (_, c) => c).filter(cpu_present);
  on_each_cpu(() => load_current_idt(), present);
  return 0;
}

/** load_current_idt: LIDT of the table on this CPU (start_secondary), if there is one. */
export function load_current_idt(): void {
  if (idt_va) this_cpu().lidt(idt_va, IDT_ENTRIES * GATE_SIZE - 1);
}

/**
 * alloc_intr_gate for a system vector (FIRST_SYSTEM_VECTOR and up: the APIC's IPIs):
 * the gate of `vector` runs `handler` on the interrupted CPU. 0 or -ENOMEM.
 */
export function alloc_intr_gate(vector: number, handler: Routine, name: string): number {
  const err = idt_setup();
  if (err) return err;
  const cpu = this_cpu();
  cpu.write(idt_va + vector * GATE_SIZE, pack_gate(cpu.registerCode(handler, name)));
  return 0;
}

let deferred: (() => void)[] = [];

/**
 * Work for when the interrupt returns: a handler that woke a task (a tty reader) queues
 * what that task does next, and it runs on the way out of the interrupt, as the woken
 * task would once irqentry_exit schedules it. Outside an interrupt it runs at once.
 */
export function irq_exit_queue(fn: () => void): void {
  if (in_irq) deferred.push(fn);
  else fn();
}

let in_irq = false;

/** common_interrupt for one ISA line: count it, run its handler, then the woken work. */
function handle_irq(irq: number): void {
  counts[irq]++;
  in_irq = true;
  try {
    handlers[irq]?.(irq);
  } finally {
    in_irq = false;
  }
  while (deferred.length) deferred.shift()!();
}

/**
 * request_irq(irq, handler, name) for a legacy ISA line: the gate of its vector runs
 * `handler`. 0, -EINVAL (no such line), -EBUSY (taken; no IRQ sharing here), -ENOMEM.
 */
export function request_irq(irq: number, handler: irq_handler_t, name: string): number {
  if (!Number.isInteger(irq) || irq < 0 || irq >= NR_LEGACY_IRQS) return -EINVAL;
  if (handlers[irq]) return -EBUSY;
  const err = idt_setup();
  if (err) return err;
  const cpu = this_cpu();
  const addr = cpu.registerCode(() => handle_irq(irq), `irq${irq}:${name}`);
  cpu.write(idt_va + ISA_IRQ_VECTOR(irq) * GATE_SIZE, pack_gate(addr));
  handlers[irq] = handler;
  names[irq] = name;
  return 0;
}

export function free_irq(irq: number): void {
  if (irq < 0 || irq >= NR_LEGACY_IRQS || !handlers[irq]) return;
  this_cpu().write(idt_va + ISA_IRQ_VECTOR(irq) * GATE_SIZE, new Uint8Array(GATE_SIZE));
  handlers[irq] = null;
  names[irq] = '';
}

/** /proc/interrupts-style rows: [irq, count, name] of the lines in use. */
export function irq_stats(): [number, number, string][] {
  const out: [number, number, string][] = [];
  for (let i = 0; i < NR_LEGACY_IRQS; i++) if (handlers[i]) out.push([i, counts[i], names[i]]);
  return out;
}
