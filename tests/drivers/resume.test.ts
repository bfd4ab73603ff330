/**
 * S3 resets every device: after resume the IOMMU, the PCI function and the virtio queue
 * must be set up again (drivers/base/syscore.ts: iommu_resume, pci_restore_state,
 * virtblk_restore), or the disk fails every request. A disk round trip after suspend,
 * through the IOMMU and in pass-through, and the function's bus-master bit restored.
 */
import t from 'tap';
import { runShell } from '../../tools/shell.js';

const script = 'suspend; a=$(mmap 4K); write $a "after S3"; blk write 6531 $a 512; ' +
  'b=$(mmap 4K); blk read 6531 512 $b; read $b 8; lspci -v -s 00:03.0 | grep -c "bus master"';

for (const append of ['quiet', 'quiet iommu=pt']) {
  for (const bios of ['tme=off', 'savekey=on']) {
    t.test(`${bios}, ${append}`, async (t) => {
      const r = await runShell(['--seed', '9', '--mem', '32M', '--nvram', '0', '--bios', bios, '--append', append, '-c', script]);
      t.equal(r.stdout, '512 bytes written to vda at sector 6531\n512 bytes read from vda at sector 6531\nafter S3\n1\n');
      t.notMatch(r.stderr, /I\/O error|not completed|DMAR/, 'no lost request, no DMAR fault'); // the exact log is boot-dependent; its absence is the point
      t.equal(r.status, 0);
    });
  }
}
