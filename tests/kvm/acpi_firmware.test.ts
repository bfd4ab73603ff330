/**
 * The ACPI tables a VMM with an assigned device writes (tools/vmm/acpi.ts) are the
 * ones the guest kernel finds (drivers/acpi/tbxfroot.ts through the zero page's
 * acpi_rsdp_addr, arch/x86/kernel/head64.ts): the MCFG's ECAM window round-trips;
 * a broken RSDP, XSDT or MCFG, or no acpi_rsdp_addr, gives no MCFG (and so no PCI),
 * never an exception.
 */
import t from 'tap';
import type { X86Cpu } from '../../arch/x86/hw/isa.js';
import { guest_boot_params, parse_boot_params } from '../../arch/x86/kernel/head64.js';
import { acpi_guest_mcfg } from '../../drivers/acpi/tbxfroot.js';
import { ACPI_RSDP_GPA, GUEST_ECAM_BASE, acpiTables, setRsdpAddr } from '../../tools/vmm/acpi.js';
import { BOOT_PARAMS_GPA, firmwareImage } from '../../tools/vmm/bootparams.js';

const RAM = 16 << 20;
function flatCpu(mem: Uint8Array): X86Cpu {
  return { read(pa: number, dst: Uint8Array) { dst.set(mem.subarray(pa, pa + dst.length)); } } as unknown as X86Cpu;
}

function guest(withAcpi: boolean): Uint8Array {
  const mem = new Uint8Array(2 << 20);
  const fw = firmwareImage({ ramSize: RAM, regions: [] }, 1, 'console=ttyS0');
  if (withAcpi) { fw.push(acpiTables()); setRsdpAddr(fw[0][1]); }
  for (const [gpa, bytes] of fw) mem.set(bytes, gpa);
  return mem;
}

t.test('MCFG round trip and bad tables', (t) => {
  const mem = guest(true);
  const cpu = flatCpu(mem);
  t.equal(parse_boot_params(cpu, BOOT_PARAMS_GPA).acpi_rsdp_addr, ACPI_RSDP_GPA);
  t.same(guest_boot_params(cpu, BOOT_PARAMS_GPA).mcfg, [{ base: GUEST_ECAM_BASE, segment: 0, startBus: 0, endBus: 0 }]);
  t.same(guest_boot_params(flatCpu(guest(false)), BOOT_PARAMS_GPA).mcfg, [], 'no acpi_rsdp_addr: no tables');
  const [, tables] = acpiTables();
  const sigAt = (sig: string): number => tables.findIndex((_, i) => String.fromCharCode(...tables.subarray(i, i + 4)) === sig);
  const mcfgAt = sigAt('MCFG');
  t.equal(sigAt('XSDT'), 48, 'XSDT after the 36-byte RSDP, 16-byte aligned');
  t.equal(mcfgAt, 48 + 44, 'MCFG after the XSDT');
  const cases: [string, (m: Uint8Array) => void][] = [
    ['RSDP checksum', (m) => { m[ACPI_RSDP_GPA + 8] ^= 1; }],
    ['RSDP revision 0 (no XSDT)', (m) => { m[ACPI_RSDP_GPA + 15] = 0; }],
    ['XSDT signature', (m) => { m[ACPI_RSDP_GPA + 48] = 0x52; }],
    ['MCFG checksum', (m) => { m[ACPI_RSDP_GPA + mcfgAt + 44] ^= 0xff; }],
    ['MCFG length beyond RAM', (m) => { m[ACPI_RSDP_GPA + mcfgAt + 7] = 0xff; }],
  ];
  for (const [what, corrupt] of cases) {
    const m = guest(true);
    corrupt(m);
    t.same(acpi_guest_mcfg(flatCpu(m), ACPI_RSDP_GPA, RAM), [], what);
  }
  t.same(acpi_guest_mcfg(cpu, ACPI_RSDP_GPA + 4, RAM), [], 'a misaligned RSDP address');
  t.same(acpi_guest_mcfg(cpu, RAM - 16, RAM), [], 'an RSDP address at the end of RAM');
  t.end();
});
