/**
 * "The guest is this kernel": the host kernel and two more instances of it in one
 * process, each on its own board, share no kernel state. Each instance is the kernel's
 * and the tools' module graph loaded again (tools/vmm/kernel_image.ts); the machine's
 * modules are one copy for all.
 */
import t, { type Test } from 'tap';
import { acquireImage, installImageLoader, type KernelImage } from '../../tools/vmm/kernel_image.js';
import type { Session } from '../../tools/vmm/session.js';
import type { BufferIo } from '../../tools/lib/io.js';

// The loader first, so the host's modules go through it and the images reuse their source.
installImageLoader();
const { openSession } = await import('../../tools/vmm/session.js');
const { bufferIo } = await import('../../tools/lib/io.js');
const hostPrintk = await import('../../kernel/printk.js');
const hostIsa = await import('../../arch/x86/hw/isa.js');
const hostMachine = await import('../../arch/x86/hw/machine.js');

type SessionModule = typeof import('../../tools/vmm/session.js');

interface Inst { name: string; s: Session; buf: BufferIo; printk: typeof hostPrintk }

async function boot(name: string, img: KernelImage | null, seed: number): Promise<Inst> {
  const buf = bufferIo();
  const open = img ? (await img.module<SessionModule>('tools/vmm/session.js')).openSession : openSession;
  const s = await open(['--seed', String(seed), '--nodes', '1', '--mem', '32M', '--nvram', '0',
    '--append', `instance=${name}`], buf.io);
  const printk = img ? await img.module<typeof hostPrintk>('kernel/printk.js') : hostPrintk;
  return { name, s, buf, printk };
}

/** Run `script` in `i`, returning its stdout (and failing the test on a bad status). */
function sh(t: Test, i: Inst, script: string): string {
  const before = i.buf.stdout.length;
  const st = i.s.run(script);
  t.equal(st, 0, `${i.name}: ${script}`);
  return i.buf.stdout.slice(before);
}

t.test('host and two kernel instances share no state', async (t) => {
  const img1 = await acquireImage();
  const img2 = await acquireImage();
  t.not(img1.id, img2.id); // two images: that they differ is the point
  const host = await boot('host', null, 1);
  const g1 = await boot('one', img1, 2);
  const g2 = await boot('two', img2, 3);
  const all = [host, g1, g2];

  t.test('modules: the kernel is per instance, the machine is shared', async (t) => {
    // Module identity: "another object" is the whole point.
    t.not(g1.printk, hostPrintk);
    t.not(g1.printk, g2.printk);
    t.not(g1.s.ctx.machine, host.s.ctx.machine, 'each on its own board');
    t.ok(g1.s.ctx.machine instanceof hostMachine.Machine, "an image's imports of arch/x86/hw get the one machine copy");
    // A #GP raised by the (shared) CPU is caught by the image's rdmsrl_safe through
    // `instanceof Fault`: isa.ts, too, is one module for everyone.
    t.match(sh(t, g1, 'rdmsr -x 0x10'), /^[0-9a-f]+\n$/, 'the TSC, read');
    const before = g1.buf.stderr.length;
    t.equal(g1.s.run('rdmsr 0x12345'), 4, 'msr-tools: 4 for an MSR that cannot be read');
    t.match(g1.buf.stderr.slice(before), /rdmsr: CPU 0 cannot read MSR 0x00012345/);
    t.type(hostIsa.Fault, 'function');
    t.end();
  });

  t.test('dmesg: each kernel logs only its own boot', (t) => {
    for (const i of all) {
      const out = sh(t, i, 'dmesg');
      const lines = out.split('\n').filter((l) => l.includes('Command line:'));
      t.equal(lines.length, 1, `${i.name}: one boot in its log`);
      t.match(lines[0], new RegExp(`instance=${i.name}$`));
      t.equal(i.printk.log_records().length, out.trimEnd().split('\n').length, `${i.name}: its own log buffer`);
    }
    t.end();
  });

  t.test('allocator: pages mapped in one instance leave the others untouched', (t) => {
    const free = (i: Inst): string => sh(t, i, 'cat /proc/meminfo').split('\n')[1];
    const before = all.map(free);
    const va = sh(t, g1, 'mmap 1M').trim();
    sh(t, g1, `write ${va} hello; write ${va.replace(/000$/, '800')} x`);
    const kB = (line: string): number => Number(/(\d+) kB/.exec(line)![1]);
    t.equal(kB(before[1]) - kB(free(g1)), 16,
      'the instance that faulted pages in has 16 kB less: the page both writes land in and the page tables it needed');
    t.equal(free(host), before[0]);
    t.equal(free(g2), before[2]);
    t.end();
  });

  t.test('keys: a key added in one instance exists only there', (t) => {
    const keysBefore = [host, g1].map((i) => sh(t, i, 'cat /proc/keys'));
    const serial = sh(t, g2, "keyctl add user only-in-two payload @u").trim();
    t.match(sh(t, g2, 'cat /proc/keys'), 'only-in-two');
    for (const [n, i] of [host, g1].entries()) {
      t.equal(sh(t, i, 'cat /proc/keys'), keysBefore[n], `${i.name} does not see it: its /proc/keys is unchanged`);
      const before = i.buf.stderr.length;
      t.equal(i.s.run(`keyctl print ${serial}`), 1, `${i.name}: serial ${serial} is not a key here`);
      t.match(i.buf.stderr.slice(before), /keyctl_read_alloc: (Required key not available|No such file)/i);
    }
    t.end();
  });

  t.test('processes: a fork in one instance shows only in its ps', (t) => {
    const ps = (i: Inst): number => sh(t, i, 'ps').trim().split('\n').length;
    const before = all.map(ps);
    sh(t, host, 'fork');
    t.equal(ps(host), before[0] + 1);
    t.equal(ps(g1), before[1]);
    t.equal(ps(g2), before[2]);
    t.end();
  });

  for (const i of all) i.s.close();
  t.end();
});
