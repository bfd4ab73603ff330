/**
 * The 8250/16550 serial driver (Linux drivers/tty/serial/8250/8250_core.c,
 * 8250_port.c and the legacy ISA ports of asm/serial.h): ttyS0 at 0x3f8 (IRQ 4) and
 * ttyS1 at 0x2f8 (IRQ 3).
 *
 *  - How many legacy ports to probe is the `8250.nr_uarts=` parameter (Linux's module
 *    parameter of the same name; its default is CONFIG_SERIAL_8250_RUNTIME_UARTS,
 *    which is 0 in this tree because the emulated board has no UARTs, and probing
 *    absent ports would still cost port cycles). The VMM passes `8250.nr_uarts=2
 *    console=ttyS0` on a guest's command line, as lkvm passes console=ttyS0.
 *  - console=ttyS0 (kernel/printk/printk.c console_setup, reduced to the one console
 *    driver there is) makes ttyS0 the kernel console.
 *  - Probe (autoconfig): the scratch register must hold what was written (an absent
 *    port floats and reads 0xff); then FCR enables the FIFOs and IIR bits 7:6 read 11b
 *    on a 16550A. A board without UARTs (this emulator's physical machine) finds none
 *    and prints nothing.
 *  - Output: polled, as serial8250_console_write does: wait for LSR.THRE, write THR.
 *    ttyS0 is also the kernel console (register_console, with the log so far).
 *  - Input: the receive interrupt (IER.RDI, MCR.OUT2 to route it): the handler reads
 *    RBR while LSR.DR is set and passes the bytes to the tty (serial8250_rx_chars).
 */
import { this_cpu } from '../../../arch/x86/include/asm/processor.js';
import { request_irq } from '../../../arch/x86/kernel/idt.js';
import { pr_info, register_console } from '../../../kernel/printk.js';
import { __setup, module_param, param_ops_uint } from '../../../kernel/params.js';
import { tty_insert_flip_string, tty_register_device, tty_write, type tty_struct } from '../tty_io.js';

const UART_RX = 0;
const UART_TX = 0;
const UART_IER = 1;
const UART_IIR = 2;
const UART_FCR = 2;
const UART_LCR = 3;
const UART_MCR = 4;
const UART_LSR = 5;
const UART_SCR = 7;
const UART_IER_RDI = 0x01;
const UART_FCR_ENABLE_FIFO = 0x01;
const UART_FCR_CLEAR = 0x06;
const UART_LCR_WLEN8 = 0x03;
const UART_MCR_DTR = 0x01;
const UART_MCR_RTS = 0x02;
const UART_MCR_OUT2 = 0x08;
const UART_LSR_DR = 0x01;
const UART_LSR_THRE = 0x20;
/** Bytes drained per interrupt at most (serial8250_rx_chars' max_count is 256). */
const RX_BUDGET = 4096;
const BASE_BAUD = 115200;

/** SERIAL_PORT_DFNS: the legacy PC ports. */
const OLD_SERIAL_PORT = [
  { name: 'ttyS0', base: 0x3f8, irq: 4 },
  { name: 'ttyS1', base: 0x2f8, irq: 3 },
];

interface uart_8250_port { name: string; base: number; irq: number; tty: tty_struct }


const nr_uarts = module_param('8250', 'nr_uarts', param_ops_uint, 0);
let preferred_console = '';
__setup('console', (val) => { preferred_console = val.split(',')[0]; return 1; }, () => { preferred_console = ''; });

const inb = (p: number): number => this_cpu().inb(p);
const outb = (p: number, v: number): void => this_cpu().outb(p, v);

/** autoconfig: is a 16550A at `base`? */
function autoconfig(base: number): boolean {
  outb(base + UART_SCR, 0xa5);
  if (inb(base + UART_SCR) !== 0xa5) return false;
  outb(base + UART_SCR, 0x5a);
  if (inb(base + UART_SCR) !== 0x5a) return false;
  outb(base + UART_FCR, UART_FCR_ENABLE_FIFO);
  const fifo = (inb(base + UART_IIR) & 0xc0) === 0xc0;
  outb(base + UART_FCR, 0);
  return fifo;
}

function serial_out_bytes(up: uart_8250_port, bytes: Uint8Array): void {
  for (const b of bytes) {
    while (!(inb(up.base + UART_LSR) & UART_LSR_THRE)) { /* wait_for_xmitr */ }
    outb(up.base + UART_TX, b);
  }
}

/** serial8250_rx_chars: drain the receiver into the tty. */
function serial8250_interrupt(up: uart_8250_port): void {
  const got: number[] = [];
  while (got.length < RX_BUDGET && inb(up.base + UART_LSR) & UART_LSR_DR) got.push(inb(up.base + UART_RX));
  if (got.length) tty_insert_flip_string(up.tty, Uint8Array.from(got));
}

/** serial8250_startup: 8N1, FIFOs on and cleared, receive interrupt routed and enabled. */
function serial8250_startup(up: uart_8250_port): number {
  outb(up.base + UART_LCR, UART_LCR_WLEN8);
  outb(up.base + UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR);
  const err = request_irq(up.irq, () => serial8250_interrupt(up), 'serial');
  if (err) return err;
  outb(up.base + UART_MCR, UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);
  outb(up.base + UART_IER, UART_IER_RDI);
  return 0;
}

/** serial8250_init (module_init): probe the legacy ports, register ttys and the console. */
export function serial8250_init(): number {
  for (const p of OLD_SERIAL_PORT.slice(0, nr_uarts.value)) {
    if (!autoconfig(p.base)) continue;
    const up = { ...p, tty: null as unknown as tty_struct };
    up.tty = tty_register_device(p.name, { write: (b) => serial_out_bytes(up, b) });
    const err = serial8250_startup(up);
    if (err) continue;
    pr_info(`${p.name}: at I/O 0x${p.base.toString(16)} (irq = ${p.irq}, base_baud = ${BASE_BAUD}) is a 16550A`);
    if (p.name === preferred_console) {
      register_console((line) => tty_write(up.tty, line + '\n'));
      pr_info(`printk: console [${p.name}] enabled`);
    }
  }
  return 0;
}
