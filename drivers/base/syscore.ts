/**
 * Resume hooks for S3 (Linux drivers/base/syscore.c and, for devices, the dpm_resume
 * phase of drivers/base/power/main.c). Across S3 the platform resets every device: the
 * IOMMU forgets its root table and translation enable, PCI functions their command
 * registers, a virtio device its queues. After the CPUs have their page tables again,
 * syscore_resume() runs the system-core hooks (the IOMMU: Linux's intel-iommu registers
 * iommu_syscore_ops) and then the device hooks (pci_restore_state and the driver's
 * restore, as virtblk_restore does), each in registration order.
 *
 * Drivers register at their init on every boot; an object registered again is not
 * added twice, and each hook finds its own driver's current state.
 */
export interface syscore_ops { resume(): void }

let syscore: syscore_ops[] = [];
let device_resume: syscore_ops[] = [];

export function register_syscore_ops(ops: syscore_ops): void {
  if (!syscore.includes(ops)) syscore.push(ops);
}

/** A device driver's resume (this tree's stand-in for dev_pm_ops.resume on a bus). */
export function register_device_resume(ops: syscore_ops): void {
  if (!device_resume.includes(ops)) device_resume.push(ops);
}

/** syscore_resume() then dpm_resume(): system-core hooks first, then devices. */
export function syscore_resume(): void {
  for (const ops of syscore) ops.resume();
  for (const ops of device_resume) ops.resume();
}

/** Boot: no hooks until drivers register theirs. */
export function syscore_init(): void { syscore = []; device_resume = []; }
