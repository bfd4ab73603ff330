/**
 * Machine-wide VMX state: the text table, the I/O port space, and what the processor
 * keeps about each VMCS region beyond its memory (the guest's register file, the vCPU
 * view software runs on). Keyed by the VMCS's full physical address (KeyID included).
 */
import type { GuestRegs } from '../isa.js';
import { IoPortBus } from '../ioport.js';
import { TextTable } from './text.js';
import type { GuestCpu } from './vcpu.js';

export interface VmcsInfo {
  readonly pa: number;
  regs: GuestRegs;
  view: GuestCpu | null;
}

export class VmxPlatform {
  readonly text = new TextTable();
  readonly io = new IoPortBus();
  private readonly vmcs = new Map<number, VmcsInfo>();
  private readonly vcpusOf = new Map<number, number>();

  /** The next vCPU position in a VM (code domain): vCPUs count in the order they first enter. */
  nextVcpuIndex(domain: number): number {
    const n = this.vcpusOf.get(domain) ?? 0;
    this.vcpusOf.set(domain, n + 1);
    return n;
  }

  info(pa: number): VmcsInfo {
    let i = this.vmcs.get(pa);
    if (!i) {
      i = { pa, regs: { rax: 0, rbx: 0, rcx: 0, rdx: 0, rsi: 0, rdi: 0, rbp: 0, rsp: 0, rflags: 2 }, view: null };
      this.vmcs.set(pa, i);
    }
    return i;
  }
}
