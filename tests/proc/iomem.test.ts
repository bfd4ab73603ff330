/**
 * /proc/iomem as a resource tree (kernel/resource.c): e820 at the top, the kernel
 * image inside System RAM, and what drivers claim: the PCI host bridge's window with
 * ECAM and the device's BAR inside it, the IOMMU's register page. insert_resource's
 * rules: nesting, adoption of contained claims, -EBUSY for a partial overlap.
 */
import t from 'tap';
import { bootKernel, SMALL } from '../lib/boot.js';
import { iomem_proc_show } from '../../fs/proc/iomem.js';
import { EBUSY, EINVAL } from '../../kernel/errno.js';
import { insert_into, type resource } from '../../kernel/resource.js';

t.test('the board, as root reads it', (t) => {
  bootKernel({ ...SMALL, packages: 1 });
  t.equal(iomem_proc_show(), [
    '00000000-000fffff : Reserved',
    '00100000-03ffffff : System RAM',
    '  01000000-011fffff : Kernel code',
    '  01200000-012fffff : Kernel rodata',
    '  01300000-0137ffff : Kernel data',
    '  01380000-013fffff : Kernel bss',
    'c0000000-febfffff : PCI Bus 0000:00',
    '  e0000000-efffffff : PCI ECAM 0000 [bus 00-ff]',
    '  fe000000-fe000fff : 0000:00:03.0',
    'fed90000-fed90fff : dmar0',
    '',
  ].join('\n'));
  t.end();
});

t.test('a reboot starts from an empty tree (no claim listed twice)', (t) => {
  bootKernel({ ...SMALL, packages: 1 });
  const once = iomem_proc_show();
  bootKernel({ ...SMALL, packages: 1 });
  t.equal(iomem_proc_show(), once);
  t.equal(once.split('\n').filter((l) => l.endsWith(': dmar0')).length, 1);
  t.end();
});

t.test('insert_resource: nesting, adoption, conflicts', (t) => {
  const top: resource[] = [];
  t.equal(insert_into(top, 'child', 0x1000, 0x1fff), 0);
  t.equal(insert_into(top, 'parent', 0x0, 0xffff), 0, 'adopts the range it contains');
  t.equal(insert_into(top, 'grandchild', 0x1800, 0x18ff), 0);
  t.equal(insert_into(top, 'straddles', 0x1f00, 0x20ff), -EBUSY, 'a partial overlap with a sibling');
  t.equal(insert_into(top, 'backwards', 0x10, 0x0f), -EINVAL);
  t.same(top.map((r) => r.name), ['parent']);
  t.same(top[0].children.map((r) => r.name), ['child']);
  t.same(top[0].children[0].children.map((r) => [r.name, r.start, r.end]), [['grandchild', 0x1800, 0x18ff]]);
  t.end();
});
