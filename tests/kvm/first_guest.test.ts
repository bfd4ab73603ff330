/**
 * The end-to-end path: /dev/kvm, KVM_CREATE_VM, a memslot, a vCPU, KVM_RUN of a guest
 * routine doing CPUID, a store (EPT built on demand), an OUT to the serial port, HLT.
 */
import t from 'tap';
import { KVM_EXIT_HLT } from '../../include/uapi/linux/kvm.js';
import { KVM_GET_API_VERSION } from '../../include/uapi/linux/kvm.js';
import { createVm, ioctl, runGuest } from './helpers.js';
import { as } from '../lib/task.js';
import { user_read } from '../../mm/uaccess.js';

t.test('a first guest: CPUID, a store, OUT 0x3f8, HLT', (t) => {
  const vm = createVm();
  t.equal(ioctl(vm, vm.kvmfd, KVM_GET_API_VERSION, 0), 12, 'KVM_API_VERSION');
  let sig = '';
  let after = false;
  const r = runGuest(vm, function guest(cpu) {
    const c = cpu.cpuid(0x40000000);
    for (const w of [c.ebx, c.ecx, c.edx]) for (let i = 0; i < 4; i++) sig += String.fromCharCode((w >>> (8 * i)) & 0xff);
    cpu.store32(0x2000, 0x12345678);
    for (const ch of 'hi\n') cpu.outb(0x3f8, ch.charCodeAt(0));
    cpu.hlt();
    after = true;
  });
  t.equal(r, 0, 'KVM_RUN returns 0');
  t.equal(vm.run.exit_reason, KVM_EXIT_HLT, 'at the outermost halt');
  t.equal(sig, 'KVMKVMKVM\0\0\0', 'the KVM signature leaf');
  t.equal(vm.serial, 'hi\n', 'serial output reached the VMM');
  t.same(vm.exits, ['io:out:0x3f8', 'io:out:0x3f8', 'io:out:0x3f8', 'hlt'], 'exits in order');
  t.ok(after, 'the guest went on after its HLT');
  const mem = as(vm.tsk, () => user_read(vm.tsk, vm.ram + 0x2000, 4));
  t.ok(mem.ok && Array.from(mem.value).join(',') === '120,86,52,18', 'the guest store is in the VMM memory at the same offset');
  t.end();
});
