/**
 * perf stat and the workloads it measures (stream, lat_mem_rd, loop), through the shell
 * on a booted machine: output formats, exact counts where the model fixes them, the
 * virtual-time model's claim (encryption costs only below the cache), and bad input.
 */
import t from 'tap';
import { openSession } from '../../tools/vmm/session.js';
import { bufferIo } from '../../tools/lib/io.js';
import { TIMING } from '../../arch/x86/hw/timing.js';
import { TSC_HZ } from '../../arch/x86/hw/clock.js';

/** A booted kernel shell (the VMM's session helper: the shell `make run` starts, /proc included). */
async function shell(argv: string[] = []) {
  const buf = bufferIo();
  const s = await openSession(['--mem', '32M', '--nvram', '0', ...argv], buf.io);
  let seen = 0;
  const run = (line: string): { out: string; status: number } => {
    const status = s.run(line);
    const out = buf.all.slice(seen);
    seen = buf.all.length;
    return { out, status };
  };
  run('true');
  return { ctx: s.ctx, run, close: () => s.close() };
}

t.test('perf stat counts the lines one read makes the engine decrypt, per KeyID', async (t) => {
  const { run, close } = await shell();
  const serial = run("keyctl add mktme k 'type=cpu algorithm=aes-xts-128' @u").out.trim();
  const va = run('mmap 8K').out.trim();
  t.equal(run(`encrypt_mprotect ${va} 8K rw ${serial}`).status, 0);
  t.equal(run(`write ${va} hello`).status, 0);
  t.equal(run('sync').status, 0); // the line leaves the cache: the next read is a fill
  const r = run(`perf stat -e mktme/lines_decrypted,keyid=1/,mktme/lines_decrypted,keyid=0/ -e mktme/lines_encrypted/ read ${va} 5`);
  t.equal(r.status, 0);
  const lines = r.out.split('\n');
  t.equal(lines[0], 'hello', 'the command ran (its output first)');
  t.equal(lines[2], ` Performance counter stats for 'read ${va} 5':`);
  t.equal(lines[4], '                 1      mktme/lines_decrypted,keyid=1/', 'one fill under KeyID 1');
  t.equal(lines[5], '                 0      mktme/lines_decrypted,keyid=0/');
  t.equal(lines[6], '                 0      mktme/lines_encrypted/', 'nothing written back');
  t.match(lines[8], /^ {7}0\.[0-9]{9} seconds time elapsed$/);
  t.end();
  close();
});

t.test('perf stat defaults, exit status and bad input', async (t) => {
  const { run, close } = await shell();
  const r = run('perf stat echo hi');
  t.equal(r.status, 0);
  t.match(r.out, /^hi\n\n Performance counter stats for 'echo hi':\n\n +[0-9,]+ +cycles\n +[0-9,]+ +cache-references\n +[0-9,]+ +cache-misses.*\n +[0-9,]+ +dTLB-load-misses\n +[0-9,]+ +mktme\/lines_encrypted\/\n +[0-9,]+ +mktme\/lines_decrypted\/\n\n +[0-9.]+ seconds time elapsed\n\n$/);
  t.equal(run('perf stat -e bogus echo').status, 129);
  t.equal(run('perf stat -e bogus echo').out, "event syntax error: 'bogus'\n                     \\___ parser error\nRun 'perf list' for a list of valid events\n");
  t.equal(run('perf stat -e mktme/lines_encrypted,keyid=x/ echo').status, 129);
  t.equal(run('perf stat').status, 2);
  t.equal(run('perf').status, 2);
  t.equal(run('perf stat nosuch').status, 127, "the command's status");
  t.match(run('perf list').out, /mktme\/lines_encrypted\//);
  t.end();
  close();
});

/** Run `cmds` on a fresh machine (one kernel per process at a time), with `{k}` the serial of an mktme key. */
async function session(argv: string[], cmds: string[]): Promise<{ out: string; status: number }[]> {
  const { run, close } = await shell(argv);
  const serial = run("keyctl add mktme k 'type=cpu algorithm=aes-xts-128' @u").out.trim();
  const outs = cmds.map((c) => run(c.replace('{k}', serial)));
  close();
  return outs;
}

t.test('the cache-resident loop costs the same under every KeyID: a hit never reaches the engine', async (t) => {
  const [a, bad, nokey] = await session(['--bios', 'tme=off'], ['loop 8K 10', 'loop 100', 'loop -k 12345 4K']);
  const [b] = await session([], ['loop -k {k} 8K 10']);
  const perLoad = TIMING.CACHE_HIT + TIMING.INSN; // one hit and one instruction per load
  t.equal(a.out, `loop: 8192 bytes x 10 passes: ${1280 * perLoad} cycles, ${(128 * perLoad).toFixed(1)} cycles/pass, ${perLoad.toFixed(3)} cycles/load\n`);
  t.equal(b.out, a.out, 'identical under an mktme key');
  t.equal(bad.status, 2, 'SIZE not a multiple of 64');
  t.equal(nokey.out, 'loop: Required key not available\n', 'no such key: the error of encrypt_mprotect');
  t.end();
});

t.test('lat_mem_rd: lmbench table; a DRAM-bound chase pays the engine latency per load', async (t) => {
  const [a, s7, none] = await session(['--bios', 'tme=off'], ['lat_mem_rd 1 256', 'lat_mem_rd 1 7', 'lat_mem_rd']);
  const [b] = await session([], ['lat_mem_rd -k {k} 1 256']);
  t.equal(a.status, 0);
  const rows = (s: string) => s.split('\n').filter((l) => /^[0-9.]+ [0-9.]+$/.test(l)).map((l) => l.split(' ').map(Number));
  t.match(a.out, /^"stride=256\n0\.00049 [0-9.]+\n0\.00098 /);
  t.ok(a.out.endsWith('\n\n'), 'a blank line after each stride');
  const ra = rows(a.out), rb = rows(b.out);
  t.same(ra.map((r) => r[0]), [0.00049, 0.00098, 0.00195, 0.00293, 0.00391, 0.00586, 0.00781, 0.01172, 0.01563,
    0.02344, 0.03125, 0.04688, 0.0625, 0.09375, 0.125, 0.1875, 0.25, 0.375, 0.5, 0.75, 1], "lmbench's step()");
  t.equal(ra[0][1], (TIMING.CACHE_HIT + TIMING.INSN) / TSC_HZ * 1e9, 'cache-resident: a hit and an instruction');
  t.equal(rb[0][1], ra[0][1], 'cache-resident: the same latency under a key');
  const engineNs = (TIMING.ENGINE_LINE / TSC_HZ) * 1e9;
  const extra = rb[rb.length - 1][1] - ra[ra.length - 1][1];
  t.ok(extra > 0.8 * engineNs && extra <= engineNs * 1.05, `1 MB chase: +${extra.toFixed(2)} ns, about the engine's ${engineNs} ns`);
  t.equal(s7.status, 2, 'stride not a multiple of 8');
  t.equal(none.status, 2);
  t.end();
});

t.test('stream: McCalpin report, validated, virtual-time rates', async (t) => {
  const { run, close } = await shell();
  const r = run('stream -n 8K');
  t.equal(r.status, 0);
  t.match(r.out, /\nArray size = 8192 \(elements\), Offset = 0 \(elements\)\nMemory per array = 0\.1 MiB \(= 0\.0 GiB\)\.\n/);
  t.match(r.out, /\nFunction    Best Rate MB\/s  Avg time     Min time     Max time\nCopy: {6} +[0-9.]+ +[0-9.]{8} +[0-9.]{8} +[0-9.]{8}\nScale: {5}.*\nAdd: {7}.*\nTriad: {5}.*\n-{61}\nSolution Validates: avg error less than 1\.000000e-13 on all three arrays\n/);
  t.equal(run('stream -n 0').status, 2);
  t.equal(run('stream -x').status, 2);
  t.end();
  close();
});
