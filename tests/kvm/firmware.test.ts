/**
 * The guest's firmware view and its console UART, each side against the other: what
 * the VMM writes (tools/vmm/bootparams.ts) is what the guest kernel reads
 * (arch/x86/kernel/head64.ts), and the VMM's 16550A behaves as the guest's 8250
 * driver expects (LSR.DR, IER/IIR, OUT2 gating the IRQ, DLAB).
 */
import t from 'tap';
import type { X86Cpu } from '../../arch/x86/hw/isa.js';
import { guest_boot_params, mp_processor_count, parse_boot_params } from '../../arch/x86/kernel/head64.js';
import { BOOT_PARAMS_GPA, MPTABLE_GPA, firmwareImage, guestE820 } from '../../tools/vmm/bootparams.js';
import {
  COM1, Serial8250, UART_IER, UART_IER_RDI, UART_IER_THRI, UART_IIR, UART_LCR, UART_LCR_DLAB, UART_LSR,
  UART_MCR, UART_RX, UART_SCR,
} from '../../tools/vmm/serial8250.js';

/** A CPU with paging off over a flat guest-physical memory (reads only). */
function flatCpu(mem: Uint8Array): X86Cpu {
  return { read(pa: number, dst: Uint8Array) { dst.set(mem.subarray(pa, pa + dst.length)); } } as unknown as X86Cpu;
}

function guestMemory(ncpus: number, cmdline: string) {
  const layout = { ramSize: 64 << 20, regions: [{ gpa: 0x8000000, size: 0x10000 }, { gpa: 0x8100000, size: 0x1000 }] };
  const mem = new Uint8Array(2 << 20);
  for (const [gpa, bytes] of firmwareImage(layout, ncpus, cmdline)) mem.set(bytes, gpa);
  return { mem, layout };
}

t.test('zero page, command line and MP table round-trip', (t) => {
  const { mem, layout } = guestMemory(3, 'console=ttyS0 quiet');
  const cpu = flatCpu(mem);
  const bp = parse_boot_params(cpu, BOOT_PARAMS_GPA);
  t.same(bp.e820, [
    { addr: 0, size: 0x100000, type: 2 },
    { addr: 0x100000, size: (64 << 20) - 0x100000, type: 1 },
    { addr: 0x8000000, size: 0x10000, type: 2 },
    { addr: 0x8100000, size: 0x1000, type: 2 },
  ]);
  t.same(bp.e820, guestE820(layout));
  t.equal(bp.cmdline, 'console=ttyS0 quiet');
  t.equal(mp_processor_count(cpu), 3);
  const full = guest_boot_params(cpu, BOOT_PARAMS_GPA);
  t.same(full.cpus, [cpu], 'the boot vCPU is handed over');
  t.equal(full.nrCpus, 3, 'the APs are only listed');
  t.same(full.cpuNode, [0, 0, 0]);
  t.same(full.memAffinity, [{ base: 0x100000, size: (64 << 20) - 0x100000, node: 0 }], 'one node: the RAM');

  mem[MPTABLE_GPA + 16 + 44] ^= 0xff; // corrupt a processor entry: the table checksum fails
  t.throws(() => mp_processor_count(cpu), /bad checksum/);
  mem.fill(0, MPTABLE_GPA, MPTABLE_GPA + 0x100);
  t.equal(mp_processor_count(cpu), 1, 'no MP table: uniprocessor');
  t.throws(() => firmwareImage(layout, 1, 'x'.repeat(2048)), /command line longer/);
  t.end();
});

t.test('16550A: transmit, receive, interrupts', (t) => {
  const out: number[] = [];
  const u = new Serial8250(COM1.base, COM1.irq, (b) => out.push(b));
  const p = (r: number): number => COM1.base + r;
  t.ok(u.claims(0x3f8) && u.claims(0x3ff) && !u.claims(0x400) && !u.claims(0x2f8));
  u.write(p(UART_SCR), 0x5a);
  t.equal(u.read(p(UART_SCR)), 0x5a, 'scratch register (8250 probing)');
  t.equal(u.read(p(UART_LSR)) & 0x61, 0x60, 'THR empty, no data');
  for (const c of 'hi\n') u.write(p(UART_RX), c.charCodeAt(0));
  t.equal(String.fromCharCode(...out), 'hi\n');
  t.notOk(u.irqLine(), 'no interrupt enabled');
  u.write(p(UART_IER), UART_IER_RDI);
  u.receive('ab');
  t.ok(u.irqLine(), 'received data raises the line');
  t.equal(u.read(p(UART_IIR)) & 0x0f, 0x04, 'IIR: received data available');
  t.equal(u.read(p(UART_LSR)) & 1, 1);
  t.equal(u.read(p(UART_RX)), 0x61);
  t.equal(u.read(p(UART_RX)), 0x62);
  t.equal(u.read(p(UART_LSR)) & 1, 0, 'DR clear when drained');
  t.notOk(u.irqLine());
  u.write(p(UART_MCR), 0);
  u.receive('c');
  t.notOk(u.irqLine(), 'OUT2 clear: the IRQ is gated off');
  u.write(p(UART_MCR), 0x08);
  t.ok(u.irqLine());
  u.write(p(UART_IER), UART_IER_RDI | UART_IER_THRI);
  t.equal(u.read(p(UART_RX)), 0x63);
  t.equal(u.read(p(UART_IIR)) & 0x0f, 0x02, 'THR empty interrupt');
  t.equal(u.read(p(UART_IIR)) & 0x0f, 0x01, '...cleared by reading IIR');
  u.write(p(UART_LCR), UART_LCR_DLAB | 3);
  u.write(p(UART_RX), 0x01); // DLL: divisor, not a byte sent
  t.equal(u.read(p(UART_RX)), 0x01);
  u.write(p(UART_LCR), 3);
  t.equal(out.length, 3, 'DLAB writes sent nothing');
  t.end();
});
