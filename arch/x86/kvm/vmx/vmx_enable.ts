/**
 * VMX on and off on every CPU (Linux vmx_hardware_enable / kvm_cpu_vmxon, and
 * hardware_enable_all on the first VM): each CPU gets a VMXON region, a KeyID-0 page
 * whose first word is the VMCS revision identifier from IA32_VMX_BASIC.
 */
import { MSR_IA32_VMX_BASIC, VMX_SUCCEED } from '../../hw/isa.js';
import { cpuid, nr_cpu_ids, rdmsrl_safe, smp_call_function_single, writel } from '../../include/asm/processor.js';
import { page_address } from '../../include/asm/page.js';
import { GFP_KERNEL, __GFP_ZERO, __free_pages, alloc_pages } from '../../../../mm/page_alloc.js';
import { EIO, ENOMEM } from '../../../../kernel/errno.js';
import { pr_err } from '../../../../kernel/printk.js';
import { cpu_vmxoff, cpu_vmxon } from './vmx_ops.js';

const X86_FEATURE_VMX = 1 << 5; // CPUID.1:ECX[5]

let vmxon_region: number[] = [];
let enabled: boolean[] = [];
let revision_id = 0;

/** cpu_has_vmx: CPUID.1:ECX.VMX. */
export function cpu_has_vmx(): boolean { return (cpuid(1).ecx & X86_FEATURE_VMX) !== 0; }

/** Boot: nothing enabled yet (module state is per kernel instance). */
export function vmx_enable_reset(): void {
  vmxon_region = [];
  enabled = [];
  revision_id = 0;
}

export function vmx_enabled_on(cpu: number): boolean { return enabled[cpu] === true; }

/** A zeroed KeyID-0 page carrying the revision identifier (alloc_vmcs_cpu); its PA or -ENOMEM. */
export function alloc_vmcs_page(): number {
  const pfn = alloc_pages(GFP_KERNEL | __GFP_ZERO, 0, 0);
  if (pfn < 0) return -ENOMEM;
  writel(page_address(pfn), revision_id);
  return pfn * 4096;
}

export function free_vmcs_page(pa: number): void { __free_pages(pa / 4096, 0); }

/** hardware_enable_all: VMXON on every CPU (idempotent); 0 or -errno. */
export function hardware_enable_all(): number {
  const basic = rdmsrl_safe(MSR_IA32_VMX_BASIC);
  if (basic.err) return -EIO;
  revision_id = Number(basic.val & 0x7fffffffn);
  for (let cpu = 0; cpu < nr_cpu_ids(); cpu++) {
    if (enabled[cpu]) continue;
    const pa = alloc_vmcs_page();
    if (pa < 0) return pa;
    const r = smp_call_function_single(cpu, () => cpu_vmxon(pa));
    if (r !== VMX_SUCCEED) {
      pr_err(`kvm: VMXON failed on CPU ${cpu}`);
      free_vmcs_page(pa);
      return -EIO;
    }
    vmxon_region[cpu] = pa;
    enabled[cpu] = true;
  }
  return 0;
}

/** hardware_disable_all: VMXOFF everywhere (the last VM is gone). */
export function hardware_disable_all(): void {
  for (let cpu = 0; cpu < nr_cpu_ids(); cpu++) {
    if (!enabled[cpu]) continue;
    smp_call_function_single(cpu, () => cpu_vmxoff());
    free_vmcs_page(vmxon_region[cpu]);
    enabled[cpu] = false;
  }
}
