/**
 * The article's example on real VMs (tools/commands/vm.ts), checked byte for byte:
 *  - the guests are this kernel, each its own instance: no dmesg, allocator, key or
 *    process state crosses between the host and two guests in one process;
 *  - a guest sees no MKTME (CPUID, /proc/cpuinfo, MSRs, the key type) and the full
 *    physical address width;
 *  - KeyID 3 memory shared by VM1 and VM2, a KeyID-0 buffer the host reads in plaintext;
 *  - VM1's page in DRAM is AES-XTS under VM1's type=user key at its host-physical
 *    address, and an EPT entry pointing VM2 at it reads exactly that ciphertext
 *    decrypted under VM2's key (the reference cipher computes both).
 */
import t, { type Test } from 'tap';
import { installImageLoader, preloadImages } from '../../tools/vmm/kernel_image.js';
import type { Session } from '../../tools/vmm/session.js';

// The image loader first, then the host's modules: loaded through it, their source is
// reused for the guest images (under tap, not transpiled again).
installImageLoader();
const { addrTweak, xtsDecrypt, xtsEncrypt } = await import('../../arch/x86/hw/crypto/xts.js');
const { bufferIo } = await import('../../tools/lib/io.js');
const { openSession } = await import('../../tools/vmm/session.js');

const K1 = '00112233445566778899aabbccddeeff';
const T1 = '0f1e2d3c4b5a69788796a5b4c3d2e1f0';
const K2 = 'ffeeddccbbaa99887766554433221100';
const T2 = 'f0e1d2c3b4a5968778695a4b3c2d1e0f';
const hex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g)!.map((b) => parseInt(b, 16)));
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** The bytes of a devmem/dimm hexdump. */
function dumpBytes(text: string): Uint8Array {
  const out: number[] = [];
  for (const line of text.split('\n')) {
    const m = /^[0-9a-f]{16}  ((?:[0-9a-f]{2} ?)+?) *(?: {2}|$)/.exec(line.replace(/\|.*$/, ''));
    if (m) for (const b of line.replace(/\|.*$/, '').slice(18).trim().split(/\s+/)) out.push(parseInt(b, 16));
  }
  return Uint8Array.from(out);
}

interface Host { s: Session; out(script: string): string; run(script: string): number; err(): string }

async function host(): Promise<Host> {
  const buf = bufferIo();
  const s = await openSession(['--seed', '7', '--append', 'quiet'], buf.io);
  let errAt = 0;
  return {
    s,
    out(script) {
      const at = buf.stdout.length;
      errAt = buf.stderr.length;
      s.run(script);
      return buf.stdout.slice(at);
    },
    run(script) {
      errAt = buf.stderr.length;
      return s.run(script);
    },
    err: () => buf.stderr.slice(errAt),
  };
}

function eptLine(text: string): { hpa: number; keyid: number } {
  const m = /hpa=(0x[0-9a-f]+) keyid=(\d+)/.exec(text);
  if (!m) throw new Error(`no EPT line in ${JSON.stringify(text)}`);
  return { hpa: Number(m[1]), keyid: Number(m[2]) };
}

t.test('two guests and the host', async (t: Test) => {
  await preloadImages(2);
  const h = await host();
  const s1 = Number(h.out(`keyctl add mktme vm1 'type=user algorithm=aes-xts-128 key=${K1} tweak=${T1}' @u`));
  const s2 = Number(h.out(`keyctl add mktme vm2 'type=user algorithm=aes-xts-128 key=${K2} tweak=${T2}' @u`));
  const s3 = Number(h.out("keyctl add mktme shared 'type=cpu algorithm=aes-xts-128' @u"));
  t.match(h.out(`vm create vm1 --key ${s1} --share vmshare:0x8000000:64K:${s3} --share iobuf:0x8100000:4K`), /^vm1: running, VMM pid \d+\n$/);
  t.match(h.out(`vm create vm2 --key ${s2} --share vmshare:0x8000000:64K:${s3} --share iobuf:0x8100000:4K --share scratch:0x8200000:4K`), /vm2: running/);
  const ps = h.out('ps');
  t.equal(ps.split('\n').filter((l) => l.endsWith(' lkvm')).length, 2, 'two VMM processes');

  t.test('no state crosses between the instances', (t) => {
    const d1 = h.out("vm exec vm1 'dmesg'");
    t.match(d1, /Hypervisor detected: KVM/);
    t.match(d1, /Command line: console=ttyS0 8250.nr_uarts=2\n/);
    // Absence is the point of these two: no line of one kernel's log in the other's.
    t.notMatch(h.out('dmesg'), /Hypervisor detected/, "the host's log has no guest lines");
    t.notMatch(d1, /x86\/tme|mktme:/, 'no TME lines in the guest');
    t.equal(h.out(`vm exec vm1 'trap "echo guest-bye \\$?" EXIT; echo hi; false'`), 'hi\nguest-bye 1\n',
      "the guest's sh -c ends with its EXIT trap");
    const keysBefore = [h.out("vm exec vm2 'cat /proc/keys'"), h.out('cat /proc/keys')];
    h.out("vm exec vm1 'keyctl add user only-vm1 payload @u'");
    t.match(h.out("vm exec vm1 'cat /proc/keys'"), /only-vm1/);
    t.equal(h.out("vm exec vm2 'cat /proc/keys'"), keysBefore[0], "VM2's keys are unchanged");
    t.equal(h.out('cat /proc/keys'), keysBefore[1], "the host's keys are unchanged");
    // The guest's list holds keys of its own boot; the point is that none is the host's.
    t.notMatch(h.out("vm exec vm1 'cat /proc/keys'"), / mktme /, "the host's mktme keys are not the guest's");
    const free = (vm: string): string => /MemFree:.*\n/.exec(h.out(`vm exec ${vm} 'cat /proc/meminfo'`))![0];
    const before = free('vm2');
    const hostBefore = /MemFree:.*\n/.exec(h.out('cat /proc/meminfo'))![0];
    h.out("vm exec vm1 'mmap 256K; write 0x7efffffc0000 x; write 0x7efffffe0000 y'");
    t.equal(free('vm2'), before, "VM1's allocations do not show in VM2's allocator");
    // The host does see the VMM's memory grow: guest RAM is its anonymous memory, faulted
    // in on EPT violations. But the guest's own allocator manages only its e820 RAM.
    const kB = (line: string): number => Number(/(\d+) kB/.exec(line)![1]);
    t.equal(kB(hostBefore) - kB(/MemFree:.*\n/.exec(h.out('cat /proc/meminfo'))![0]), 20,
      "the host's free memory went to VM1's VMM: 20 kB, the frames the EPT violations faulted in");
    t.match(h.out("vm exec vm2 'cat /proc/meminfo'"), /MemTotal: +[56]\d{4} kB/, 'a 64 MiB guest (its own e820 RAM)');
    const gps = h.out("vm exec vm2 'ps'");
    t.same(gps.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/).pop()), ['init', 'sh', 'mktme-ga', 'sh'],
      "the guest's own processes: init, the console's shell, the agent and the exec's child");
    t.end();
  });

  t.test('what a guest sees: no MKTME, full MAXPHYADDR', (t) => {
    const info = h.out("vm exec vm1 'cat /proc/cpuinfo'");
    const flags = /^flags\t\t: (.*)$/m.exec(info)![1].split(' ');
    t.ok(flags.includes('hypervisor'));
    t.notOk(flags.includes('tme') || flags.includes('pconfig') || flags.includes('vmx'), 'no tme, pconfig or vmx flag');
    t.match(info, /address sizes\t: 46 bits physical, 48 bits virtual/);
    t.match(h.out('cat /proc/cpuinfo'), /address sizes\t: 40 bits physical/, 'the host: reduced by the 6 KeyID bits');
    t.equal(h.run("vm exec vm1 'rdmsr 0x981'"), 4);
    t.equal(h.err(), 'rdmsr: CPU 0 cannot read MSR 0x00000981\n', "msr-tools' words");
    t.equal(h.run(`vm exec vm1 "keyctl add mktme k 'type=cpu algorithm=aes-xts-128' @u"`), 1);
    t.equal(h.err(), 'add_key: No such device\n', 'as a kernel without MKTME says');
    for (const tool of ['dimm read 0x100000 16', 'cache 0x100000']) {
      t.equal(h.run(`vm exec vm1 '${tool}'`), 1);
      t.match(h.err(), /: not available inside a guest/);
    }
    t.match(h.out("vm exec vm1 'cat /proc/iomem'"), /08000000-0800ffff : Reserved\n08100000-08100fff : Reserved\n/);
    t.equal(h.run("vm exec vm1 'vm create nested'"), 1, 'no nested VMX');
    t.match(h.err(), /vm: \/dev\/kvm: No such file or directory/);
    t.end();
  });

  t.test("the shell's commands inside a guest", (t) => {
    const ok = ['help', 'echo hi', 'cat /proc/meminfo', 'ls /proc', 'cpuid -1 -r -l 0', 'rdmsr 0x10', 'ps',
      'fork; ps', 'mmap 8K; mprotect 0x7effffffe000 4K r; write 0x7efffffff000 abc; read 0x7efffffff000 3; ' +
      'pagemap 0x7effffffe000 8K; munmap 0x7effffffe000 8K', 'mmap 4K shared; mmap 4K rw shm=/x', 'memmap',
      'keyctl add user k v @u; keyctl show', 'devmem 0x100000 16', 'sync', 'stream -n 2048', 'lat_mem_rd 8K',
      'su 1000; ps', 'dmesg -l err'];
    for (const cmd of ok) t.equal(h.run(`vm exec vm2 '${cmd}'`), 0, cmd);
    // The machine owner's instruments, and what MKTME needs, are absent, with a message.
    const refused: [string, number, RegExp][] = [
      ['stat', 1, /stat: not available inside a guest/],
      ['suspend', 1, /suspend: No such device/],
      ['perf stat stream -n 64', 1, /perf: not available inside a guest/],
      ['reboot', 1, /reboot: not available inside a guest/],
      ['wrmsr 0x982 0', 4, /wrmsr: CPU 0 cannot set MSR 0x00000982/],
    ];
    for (const [cmd, status, want] of refused) {
      t.equal(h.run(`vm exec vm2 '${cmd}'`), status, cmd);
      t.match(h.err(), want, cmd);
    }
    t.match(h.out("vm exec vm2 'pconfig 1 clear-key aes-xts-128'"), /package 0: -6 \(No such device or address\)/,
      'no PCONFIG target without the CPUID bit');
    t.end();
  });

  t.test('KeyID 3 shared by both VMs, KeyID 0 read by the hypervisor', (t) => {
    h.out("vm exec vm1 'devmem -w 0x8000000 48656c6c6f2066726f6d20564d31'");
    t.same(dumpBytes(h.out("vm exec vm2 'devmem 0x8000000 14'")), enc('Hello from VM1'));
    h.out("vm exec vm2 'devmem -w 0x8000010 564d322c20746f6f'");
    t.same(dumpBytes(h.out("vm exec vm1 'devmem 0x8000010 8'")), enc('VM2, too'));
    const e1 = eptLine(h.out('vm ept vm1 0x8000000'));
    const e2 = eptLine(h.out('vm ept vm2 0x8000000'));
    t.same(e1, e2, 'the same host frame');
    t.equal(e1.keyid, 3, 'under KeyID 3 in both EPTs');
    h.out("vm exec vm2 'devmem -w 0x8100000 446f6e652e'");
    const va = h.out('mmap 4K rw shm=/iobuf').trim();
    t.equal(h.out(`read ${va} 5`), 'Done.\n', 'the hypervisor reads the KeyID-0 buffer in plaintext');
    t.equal(eptLine(h.out('vm ept vm2 0x8100000')).keyid, 0);
    t.end();
  });

  t.test("VM1's page: ciphertext in DRAM, garbage for VM2, plaintext for root", (t) => {
    const secret = 'VM1 private: db password hunter2';
    // In the console's shell, a process that stays (a vm exec child ends with its script).
    t.match(h.out('vm console vm1'), /mktme# $/);
    const va = /\n(0x[0-9a-f]+)\n/.exec(h.out('mmap 4K'))![1];
    h.out(`write ${va} "${secret}"`);
    const pm = h.out(`pagemap ${va}`);
    t.equal(h.out('~.'), '~.\n');
    const gpa = Number(/pfn=(0x[0-9a-f]+)/.exec(pm)![1]) * 4096;
    const leaf = eptLine(h.out(`vm ept vm1 ${gpa}`));
    t.equal(leaf.keyid, 1);
    t.same(dumpBytes(h.out(`vm exec vm2 'devmem ${gpa} 32'`)), new Uint8Array(32), 'VM2 reaches only its own memory: its page there is zeros');
    const own = eptLine(h.out(`vm ept vm2 ${gpa}`));
    t.not(own.hpa, leaf.hpa, 'the same GPA in VM2 is another frame'); // which one is the allocator's choice
    t.equal(own.keyid, 2);

    h.out('sync');
    const line = new Uint8Array(64);
    line.set(enc(secret));
    const ct = xtsEncrypt(hex(K1), hex(T1), addrTweak(leaf.hpa), line);
    t.same(dumpBytes(h.out(`dimm read ${leaf.hpa} 64`)), ct, "DRAM = AES-XTS under VM1's key at the HPA");
    t.same(dumpBytes(h.out(`devmem -k 1 ${leaf.hpa} 32`)), enc(secret), 'root reads it through the KeyID-1 alias');

    h.out(`vm ept -w vm2 0x8200000 ${leaf.hpa} 2`);
    t.same(eptLine(h.out('vm ept vm2 0x8200000')), { hpa: leaf.hpa, keyid: 2 });
    const garbage = xtsDecrypt(hex(K2), hex(T2), addrTweak(leaf.hpa), ct);
    t.same(dumpBytes(h.out("vm exec vm2 'devmem 0x8200000 64'")), garbage,
      "VM2 reads VM1's ciphertext decrypted under VM2's key");
    t.end();
  });

  t.test('bad input: clear errors, nothing changes', (t) => {
    const cases: [string, number, RegExp][] = [
      ['vm create vm1', 1, /vm: vm1: a VM of that name exists/],
      ['vm create x --mem 3M', 2, /--mem: a multiple of 2M/],
      ['vm create x --share a:0x1000:4K', 2, /--share a: overlaps RAM/],
      ['vm create x --share vmshare:0x9000000:8K', 1, /the object is 65536 bytes, not 8192/],
      ['vm create x --share vmshare:0x9000000:64K:' + s1, 1, /the object is under KeyID 3, not 1/],
      ['vm exec nosuch ps', 1, /vm: nosuch: no such VM/],
      ['vm ept vm1 0x1000 4G', 2, /LEN: at most 256 pages/],
      ['vm frob', 2, /unknown subcommand 'frob'/],
    ];
    const list = h.out('vm list');
    for (const [cmd, status, want] of cases) {
      t.equal(h.run(cmd), status, cmd);
      t.match(h.err(), want, cmd);
    }
    t.equal(h.out('vm list'), list, 'no VM made or lost');
    t.equal(h.run("vm exec vm1 'devmem 0x20000000 16'"), 1, 'a wild GPA inside the guest');
    t.equal(h.run("vm exec vm1 'su 1000; vm ept vm1 0'"), 1);
    t.equal(h.out("vm exec vm1 'echo still here'"), 'still here\n', 'the guest carries on');
    h.out('su 1000');
    t.equal(h.run('vm ept vm1 0x8000000'), 1);
    t.match(h.err(), /vm: ept: Operation not permitted/, 'root only');
    t.end();
  });

  h.out('exit');
  t.end();
});
