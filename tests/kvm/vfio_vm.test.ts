/**
 * A PCI device assigned to a VM (vm create --device; tools/vmm/vfio.ts over
 * drivers/vfio): the guest's own kernel finds it through the MCFG/ECAM the VMM
 * emulates, its virtio-blk driver DMAs into guest-private memory at guest-physical
 * addresses, and the host's IOMMU domain for the device turns them into host
 * addresses with the VM's KeyID:
 *  - lspci and the PCI lines of the guest's dmesg; the host's driver let go;
 *  - blk write/read in the guest: the guest reads the disk's plaintext, the disk holds
 *    plaintext, DRAM holds exactly AES-XTS under the VM's type=user key at the HPA;
 *  - every IOMMU leaf of the device's domain is the EPT's frame and KeyID for that GPA;
 *  - VM1's frames are in no leaf; the device emitting VM1's HPA, or any address beyond
 *    VM2's RAM, takes a DMAR fault (the host logs it), and the guest gets an I/O error;
 *  - vm destroy gives the device back (unmapped, unpinned) and it can be assigned again.
 * Guests are 16 MiB: VFIO pins all of guest RAM at assignment.
 */
import t, { type Test } from 'tap';
import { installImageLoader, preloadImages } from '../../tools/vmm/kernel_image.js';

installImageLoader();
const { addrTweak, xtsEncrypt } = await import('../../arch/x86/hw/crypto/xts.js');
const { bufferIo } = await import('../../tools/lib/io.js');
const { openSession } = await import('../../tools/vmm/session.js');
const { vm_lookup } = await import('../../tools/commands/vm.js');
const { vfio_containers } = await import('../../drivers/vfio/vfio.js');
const { dma_pte_addr, dma_pte_keyid, domain_walk } = await import('../../drivers/iommu/intel/iommu.js');
const { dmar_fault_poll } = await import('../../drivers/iommu/intel/dmar.js');

const K1 = '00112233445566778899aabbccddeeff';
const T1 = '0f1e2d3c4b5a69788796a5b4c3d2e1f0';
const K2 = 'ffeeddccbbaa99887766554433221100';
const T2 = 'f0e1d2c3b4a5968778695a4b3c2d1e0f';
const SID = 3 << 3;
const RAM = 16 << 20;
const hex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g)!.map((b) => parseInt(b, 16)));
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function dumpBytes(text: string): Uint8Array {
  const out: number[] = [];
  for (const line of text.split('\n')) {
    if (!/^[0-9a-f]{16}  /.test(line)) continue;
    for (const b of line.replace(/\|.*$/, '').slice(18).trim().split(/\s+/)) out.push(parseInt(b, 16));
  }
  return Uint8Array.from(out);
}

function eptLine(text: string): { hpa: number; keyid: number } {
  const m = /hpa=(0x[0-9a-f]+) keyid=(\d+)/.exec(text);
  if (!m) throw new Error(`no EPT line in ${JSON.stringify(text)}`);
  return { hpa: Number(m[1]), keyid: Number(m[2]) };
}

t.test('a disk assigned to VM2', async (t: Test) => {
  await preloadImages(2);
  const buf = bufferIo();
  const s = await openSession(['--seed', '7', '--append', 'quiet'], buf.io);
  const out = (script: string): string => { const at = buf.stdout.length; s.run(script); return buf.stdout.slice(at); };
  let errAt = 0;
  const run = (script: string): number => { errAt = buf.stderr.length; return s.run(script); };
  const machine = s.ctx.machine!;

  const s1 = Number(out(`keyctl add mktme vm1 'type=user algorithm=aes-xts-128 key=${K1} tweak=${T1}' @u`));
  const s2 = Number(out(`keyctl add mktme vm2 'type=user algorithm=aes-xts-128 key=${K2} tweak=${T2}' @u`));
  t.match(out(`vm create vm1 --mem 16M --key ${s1}`), /vm1: running/);
  // VM1's secret, in a process that stays (the console's shell).
  out('vm console vm1');
  const va1 = /\n(0x[0-9a-f]+)\n/.exec(out('mmap 4K'))![1];
  out(`write ${va1} 'VM1 secret'`);
  const gpa1 = Number(/pfn=(0x[0-9a-f]+)/.exec(out(`pagemap ${va1}`))![1]) * 4096;
  out('~.');
  const vm1 = eptLine(out(`vm ept vm1 ${gpa1}`));

  t.match(out(`vm create vm2 --mem 16M --key ${s2} --device 00:03.0`), /vm2: running/);
  t.match(out('dmesg'), /virtio-pci 0000:00:03.0: virtio0: removed \(vda\)\n.*vfio-pci 0000:00:03.0: assigned to a VM: IOMMU domain \d+\n/);
  t.match(out('lspci -v -s 00:03.0'), /Kernel driver in use: vfio-pci\n/);
  t.equal(out('blk list'), '', 'the host has no disk any more');

  t.test("the guest's PCI bus", (t) => {
    t.equal(out("vm exec vm2 'lspci'"),
      '00:00.0 Host bridge: Intel Corporation 82G33/G31/P35/P31 Express DRAM Controller\n' +
      '00:03.0 SCSI storage controller: Red Hat, Inc. Virtio block device\n');
    const d = out("vm exec vm2 'dmesg'").replace(/^\[[ 0-9.]+\] /gm, '');
    t.match(d, 'PCI: ECAM [mem 0xe0000000-0xe00fffff] (base 0xe0000000) for domain 0000 [bus 00-00]\n');
    t.match(d, 'pci 0000:00:03.0: [1af4:1001] type 00 class 0x010000 conventional PCI endpoint\n' +
      'pci 0000:00:03.0: BAR 0 [mem 0xfe000000-0xfe000fff]\n');
    t.match(d, 'virtio_blk virtio0: [vda] 32768 512-byte logical blocks (16.8 MB/16.0 MiB)\n');
    t.notMatch(d, /DMAR/, 'no vIOMMU');
    t.match(out("vm exec vm2 'lspci -v -s 00:03.0'"), /Flags: bus master.*\n\tMemory at fe000000 .*\n\tKernel driver in use: virtio-pci\n/);
    t.end();
  });

  t.test('blk in the guest: plaintext to the device, AES-XTS under VM2\'s key in DRAM', (t) => {
    out('vm console vm2');
    const a = Number(/\n(0x[0-9a-f]+)\n/.exec(out('mmap 8K'))![1]);
    const b = a + 4096;
    out(`write ${a} 'a record from VM2'`);
    t.match(out(`blk write 8 ${a} 512`), /512 bytes written to vda at sector 8/);
    t.match(out(`blk read 8 512 ${b}`), /512 bytes read from vda at sector 8/);
    t.match(out(`read ${b} 17`), /a record from VM2\n/);
    const gpa = Number(/pfn=(0x[0-9a-f]+)/.exec(out(`pagemap ${b}`))![1]) * 4096;
    out('~.');
    t.ok(gpa < RAM);
    const medium = new Uint8Array(17);
    machine.disks[0].medium.read(8 * 512, medium, 0, 17);
    t.same(medium, enc('a record from VM2'), 'the disk holds plaintext');
    const leaf = eptLine(out(`vm ept vm2 ${gpa}`));
    t.equal(leaf.keyid, 2, "VM2's KeyID in EPT");
    out('sync');
    const line = new Uint8Array(64);
    line.set(enc('a record from VM2'));
    t.same(dumpBytes(out(`dimm read ${leaf.hpa} 64`)), xtsEncrypt(hex(K2), hex(T2), addrTweak(leaf.hpa), line),
      "DRAM = AES-XTS under VM2's key at the HPA the IOMMU translated the GPA to");

    // The device's domain: IOVA = GPA, every leaf the EPT's frame and KeyID; VM1's frame in none.
    const vc = vfio_containers().find((c) => c.pdev.devfn === SID)!;
    const e = domain_walk(vc.domain, gpa)[3];
    t.same({ hpa: dma_pte_addr(e), keyid: dma_pte_keyid(e) }, leaf, 'IOMMU leaf = EPT leaf for the buffer');
    let mismatch = 0, vm1hits = 0;
    for (let g = 0; g < RAM; g += 4096) {
      const l = domain_walk(vc.domain, g)[3];
      if (dma_pte_keyid(l) !== 2) mismatch++;
      if (dma_pte_addr(l) === vm1.hpa) vm1hits++;
    }
    t.equal(mismatch, 0, 'all 4096 leaves under KeyID 2');
    t.equal(vm1hits, 0, "no leaf reaches VM1's page");
    t.end();
  });

  t.test("VM1's memory is out of the device's reach", (t) => {
    const b = new Uint8Array(16);
    t.ok(vm1.hpa >= RAM, "VM1's page lies above VM2's guest-physical range (else it would name VM2's own GPA)");
    t.equal(machine.dma.read(SID, vm1.hpa, b), 'fault', "VM1's HPA as an address the device emits");
    t.equal(machine.dma.read(SID, RAM, b), 'fault', 'the first GPA beyond VM2\'s RAM');
    t.equal(dmar_fault_poll(), 2);
    t.same(out('dmesg | tail -2').replace(/^\[[ 0-9.]+\] /gm, '').split('\n').slice(0, 2), [
      `DMAR: [DMA Read NO_PASID] Request device [00:03.0] fault addr 0x${vm1.hpa.toString(16)} [fault reason 0x06] PTE Read access is not set`,
      `DMAR: [DMA Read NO_PASID] Request device [00:03.0] fault addr 0x${RAM.toString(16)} [fault reason 0x06] PTE Read access is not set`,
    ]);
    // The guest's request with a stray data address (the disk's fault-injection knob):
    // blocked, the host logs it, the guest gets an I/O error and resets its device.
    machine.disks[0].inject = 'unmapped';
    t.not(run("vm exec vm2 'a=$(mmap 4K); blk read 8 512 $a'"), 0);
    t.match(buf.stderr.slice(errAt), /Input\/output error/);
    t.match(out('dmesg | grep DMAR | tail -1'), /DMAR: \[DMA Write NO_PASID\] Request device \[00:03.0\] fault addr 0xdead0000 \[fault reason 0x05\] PTE Write access is not set/);
    t.match(out("vm exec vm2 'a=$(mmap 4K); blk read 8 512 $a; read $a 17'"), /a record from VM2\n/, 'the guest driver recovered');
    t.end();
  });

  t.test('destroy gives the device back; bad --device', (t) => {
    const cases: [string, RegExp][] = [
      ['vm create x --mem 16M --device 00:03.0', /--device 00:03.0: Device or resource busy/],
      ['vm create x --mem 16M --device 00:04.0', /--device 00:04.0: no such device/],
      ['vm create x --mem 16M --device 00:00.0', /--device 00:00.0: a bridge cannot be assigned/],
      ['vm create x --mem 16M --device 3', /--device 3: a PCI address BB:DD.F/],
    ];
    for (const [cmd, want] of cases) {
      t.equal(run(cmd), 1, cmd);
      t.match(buf.stderr.slice(errAt), want, cmd);
    }
    t.match(out('vm list'), /^NAME.*\nvm1 .*\nvm2 .*\n$/, 'failed creates left no VM');
    out('vm destroy vm2');
    t.equal(vm_lookup('vm2'), null);
    t.equal(out('blk list'), 'vda 32768 sectors (16777216 bytes)\n', "the host's driver has its disk back");
    t.match(out('dmesg | tail -2'), /vfio-pci 0000:00:03.0: released\n.*virtio_blk virtio0: \[vda\]/);
    t.equal(machine.dma.read(SID, 0, new Uint8Array(4)), 'fault', 'nothing mapped after destroy');
    t.match(out('vm create vm3 --mem 16M --device 00:03.0'), /vm3: running/, 'assignable again');
    t.match(out("vm exec vm3 'blk read 8 512 $(mmap 4K)' "), /512 bytes read/);
    t.end();
  });
  t.end();
});
