/**
 * The VMM's 16550A UART (kvmtool hw/serial.c; register map from the National/TI
 * PC16550D datasheet, Linux include/uapi/linux/serial_reg.h for the names): a guest's
 * port I/O to [base, base+8) exits to user space (KVM_EXIT_IO) and lands here.
 *
 *   +0 RBR (read) / THR (write), DLL with LCR.DLAB     +4 MCR (OUT2 gates the IRQ, LOOP)
 *   +1 IER (RDI, THRI), DLM with LCR.DLAB              +5 LSR (DR, THRE, TEMT)
 *   +2 IIR (read) / FCR (write)                        +6 MSR (DCD, DSR, CTS)
 *   +3 LCR                                             +7 SCR (scratch)
 *
 * Transmit is instant (THR empty again at once): every byte written goes to `onTx`.
 * Receive holds a FIFO filled by the host (typed console input); DR is set while it is
 * non-empty. The interrupt line is high while an enabled condition holds (received
 * data with IER.RDI, an empty THR with IER.THRI) and MCR.OUT2 is set, as on a PC where
 * OUT2 gates the UART's IRQ onto the bus; the VMM injects the IRQ's vector when the
 * line is high and the vCPU can take it.
 */

export const UART_RX = 0;
export const UART_TX = 0;
export const UART_DLL = 0;
export const UART_IER = 1;
export const UART_DLM = 1;
export const UART_IIR = 2;
export const UART_FCR = 2;
export const UART_LCR = 3;
export const UART_MCR = 4;
export const UART_LSR = 5;
export const UART_MSR = 6;
export const UART_SCR = 7;

export const UART_IER_RDI = 0x01;
export const UART_IER_THRI = 0x02;
export const UART_IIR_NO_INT = 0x01;
export const UART_IIR_THRI = 0x02;
export const UART_IIR_RDI = 0x04;
export const UART_IIR_FIFO_ENABLED = 0xc0;
export const UART_FCR_ENABLE_FIFO = 0x01;
export const UART_FCR_CLEAR_RCVR = 0x02;
export const UART_LCR_DLAB = 0x80;
export const UART_MCR_OUT2 = 0x08;
export const UART_MCR_LOOP = 0x10;
export const UART_LSR_DR = 0x01;
export const UART_LSR_THRE = 0x20;
export const UART_LSR_TEMT = 0x40;
export const UART_MSR_CTS = 0x10;
export const UART_MSR_DSR = 0x20;
export const UART_MSR_DCD = 0x80;

/** COM1 and COM2 as a PC (and kvmtool) places them: port base and ISA IRQ. */
export const COM1 = { base: 0x3f8, irq: 4 } as const;
export const COM2 = { base: 0x2f8, irq: 3 } as const;

export class Serial8250 {
  private readonly rx: number[] = [];
  private ier = 0;
  private lcr = 0x03;
  private mcr = UART_MCR_OUT2;
  private scr = 0;
  private dll = 0x0c;
  private dlm = 0;
  private fcr = 0;
  /** THRI is pending until IIR is read or THR written (16550 semantics). */
  private thriPending = false;

  constructor(readonly base: number, readonly irq: number, private readonly onTx: (byte: number) => void) {}

  /** Does this UART decode `port`? */
  claims(port: number): boolean { return port >= this.base && port < this.base + 8; }

  /** Host side: bytes arriving on the line (the guest reads them from RBR). */
  receive(bytes: Uint8Array | string): void {
    const b = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
    for (const x of b) this.rx.push(x);
  }

  /** Bytes received but not yet read by the guest. */
  get rxPending(): number { return this.rx.length; }

  /** The UART's interrupt output (after MCR.OUT2). */
  irqLine(): boolean {
    if (!(this.mcr & UART_MCR_OUT2)) return false;
    return this.interruptId() !== UART_IIR_NO_INT;
  }

  private interruptId(): number {
    if (this.ier & UART_IER_RDI && this.rx.length) return UART_IIR_RDI;
    if (this.ier & UART_IER_THRI && this.thriPending) return UART_IIR_THRI;
    return UART_IIR_NO_INT;
  }

  /** An IN of one byte from `port` (this device's range). */
  read(port: number): number {
    const dlab = (this.lcr & UART_LCR_DLAB) !== 0;
    switch (port - this.base) {
      case UART_RX:
        if (dlab) return this.dll;
        return this.rx.length ? this.rx.shift()! : 0;
      case UART_IER: return dlab ? this.dlm : this.ier;
      case UART_IIR: {
        const id = this.interruptId();
        if (id === UART_IIR_THRI) this.thriPending = false;
        return id | (this.fcr & UART_FCR_ENABLE_FIFO ? UART_IIR_FIFO_ENABLED : 0);
      }
      case UART_LCR: return this.lcr;
      case UART_MCR: return this.mcr;
      case UART_LSR: return (this.rx.length ? UART_LSR_DR : 0) | UART_LSR_THRE | UART_LSR_TEMT;
      case UART_MSR: return this.mcr & UART_MCR_LOOP ? 0 : UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
      case UART_SCR: return this.scr;
      default: return 0xff;
    }
  }

  /** An OUT of one byte to `port`. */
  write(port: number, value: number): void {
    const v = value & 0xff;
    const dlab = (this.lcr & UART_LCR_DLAB) !== 0;
    switch (port - this.base) {
      case UART_TX:
        if (dlab) { this.dll = v; return; }
        if (this.mcr & UART_MCR_LOOP) this.rx.push(v);
        else this.onTx(v);
        this.thriPending = true;
        return;
      case UART_IER:
        if (dlab) { this.dlm = v; return; }
        this.ier = v & 0x0f;
        if (this.ier & UART_IER_THRI) this.thriPending = true;
        return;
      case UART_FCR:
        this.fcr = v;
        if (v & UART_FCR_CLEAR_RCVR) this.rx.length = 0;
        return;
      case UART_LCR: this.lcr = v; return;
      case UART_MCR: this.mcr = v & 0x1f; return;
      case UART_SCR: this.scr = v; return;
      default: return; // LSR and MSR are read-only
    }
  }
}
