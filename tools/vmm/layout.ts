/**
 * The source tree's two halves, as one list that both the guest-image loader
 * (tools/vmm/kernel_image.ts) and the import-boundary test (tests/arch/boundary.test.ts)
 * read, so the directories that are "the kernel" cannot drift between the two.
 *
 *  - MACHINE_DIR is the emulated board. There is one of it per host process; every guest
 *    kernel runs on the same machine's modules (its vCPUs are hw objects).
 *  - KERNEL_DIRS are the kernel: each instance (the host's, every guest's) gets its own
 *    copy of these modules, and with them its own module-level state.
 *  - IMAGE_DIRS is what a guest image holds: the kernel and the user-space tools, since
 *    the shell's commands call the kernel they run on (a guest's `dmesg` must read the
 *    guest's log, not the host's).
 *
 * Paths are relative to the tree's root (the repository, or build/ for compiled code).
 */
export const MACHINE_DIR = 'arch/x86/hw';

export const KERNEL_DIRS: readonly string[] = [
  'arch/x86/kernel', 'arch/x86/mm', 'arch/x86/kvm', 'arch/x86/include',
  'include', 'init', 'kernel', 'lib', 'mm', 'fs', 'drivers', 'virt',
];

export const USER_DIRS: readonly string[] = ['tools'];

export const IMAGE_DIRS: readonly string[] = [...KERNEL_DIRS, ...USER_DIRS];
