/**
 * Benchmark section "guest": this kernel as a KVM guest (tools/commands/vm.ts).
 *
 *   guest_boot_ms        `vm create` to the guest's shell prompt on its serial console:
 *                        VMM process, memslots, firmware view, KVM_RUN through the guest
 *                        kernel's boot and user space (median of 5 after 3 untimed; the
 *                        guest image's modules are loaded beforehand, as the shell
 *                        preloads them)
 *   guest_stream_ratio   the same STREAM run (`stream -n 65536`, 3 x 512 KiB) as a guest
 *                        process over a host process, by wall-clock time, warm (pages
 *                        faulted in, EPT built, TLBs filled by a first run); median of 5
 *   guest_stream_vratio  the same, in the emulated machine's own time: the guest's Triad
 *                        MB/s over the host's (what the EPT walk cost model charges)
 */
import { bufferIo } from '../tools/lib/io.js';
import { openSession } from '../tools/vmm/session.js';
import { preloadImages } from '../tools/vmm/kernel_image.js';
import type { Goals } from './types.js';

export const goals: Goals = {
  guest_stream_ratio: { min: 0.7 },
};

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (v: number, d: number): number => Math.round(v * 10 ** d) / 10 ** d;

export async function run(): Promise<Record<string, number>> {
  await preloadImages(1);
  const buf = bufferIo();
  const s = await openSession(['--seed', '1', '--append', 'quiet'], buf.io);
  const sh = (script: string): string => {
    const at = buf.stdout.length;
    if (s.run(script) !== 0) throw new Error(`bench guest: '${script}' failed: ${buf.stderr.slice(-200)}`);
    return buf.stdout.slice(at);
  };

  // Untimed boots first: the section runs in a fresh process (bench.ts), and the first
  // guests also pay for compiling the machine's VMX and EPT paths.
  for (let i = 0; i < 3; i++) { sh('vm create g'); sh('vm destroy g'); }
  const boots: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    sh('vm create g');
    boots.push(performance.now() - t0);
    if (i < 4) sh('vm destroy g');
  }

  const STREAM = 'stream -n 65536';
  const triad = (out: string): number => Number(/^Triad:\s+([0-9.]+)/m.exec(out)![1]);
  sh(STREAM);
  sh(`vm exec g '${STREAM}'`);
  const ratios: number[] = [];
  let vratio = 0;
  for (let i = 0; i < 5; i++) {
    let t0 = performance.now();
    const host = sh(STREAM);
    const hostMs = performance.now() - t0;
    t0 = performance.now();
    const guest = sh(`vm exec g '${STREAM}'`);
    const guestMs = performance.now() - t0;
    ratios.push(hostMs / guestMs);
    vratio = triad(guest) / triad(host);
  }
  sh('vm destroy g');
  s.close();
  return {
    guest_boot_ms: round(median(boots), 1),
    guest_stream_ratio: round(median(ratios), 3),
    guest_stream_vratio: round(vratio, 3),
  };
}
