/**
 * /proc against a Linux 6.x host as recorded in the tool-fidelity survey (rows M1-M3,
 * S1-S3, ST1-ST4, F1): meminfo's CommitLimit, VmallocTotal and field set; smaps'
 * Pss_Dirty, KSM, THPeligible width, `ac`; status's field set, Groups, State and
 * Cpus_allowed_list; /proc/self.
 */
import t from 'tap';
import { runShell, type ShellResult } from '../../tools/shell.js';

const sh = (script: string): Promise<ShellResult> => runShell(['--append', 'quiet', '-c', script]);
const field = (text: string, name: string): string | undefined =>
  text.split('\n').find((l) => l.startsWith(name + ':'))?.slice(name.length + 1);

t.test('M1-M3: meminfo', async (t) => {
  const r = await sh('mmap 8K; mmap 4K r; cat /proc/meminfo');
  const total = Number(/^MemTotal: +(\d+) kB$/m.exec(r.stdout)![1]);
  t.equal(field(r.stdout, 'CommitLimit'), `${String(Math.floor(total / 4 * 50 / 100) * 4).padStart(16 - 'CommitLimit:'.length + 8)} kB`,
    'vm_commit_limit(): RAM pages * overcommit_ratio 50 / 100');
  t.match(r.stdout, /\nVmallocTotal:   34359738367 kB\n/, 'x86-64 4-level: 32 TiB');
  t.match(r.stdout, /\nCommitted_AS: +8 kB\n/, 'the private writable mapping only (VM_ACCOUNT)');
  const names = r.stdout.split('\n').filter((l) => /^[A-Z]/.test(l)).map((l) => l.slice(0, l.indexOf(':')));
  t.same(names, ['MemTotal', 'MemFree', 'MemAvailable', 'Buffers', 'Cached', 'SwapCached', 'Active', 'Inactive',
    'Active(anon)', 'Inactive(anon)', 'Active(file)', 'Inactive(file)', 'Unevictable', 'Mlocked', 'SwapTotal',
    'SwapFree', 'Zswap', 'Zswapped', 'Dirty', 'Writeback', 'AnonPages', 'Mapped', 'Shmem', 'KReclaimable', 'Slab',
    'SReclaimable', 'SUnreclaim', 'KernelStack', 'PageTables', 'SecPageTables', 'NFS_Unstable', 'Bounce',
    'WritebackTmp', 'CommitLimit', 'Committed_AS', 'VmallocTotal', 'VmallocUsed', 'VmallocChunk', 'Percpu',
    'HardwareCorrupted', 'AnonHugePages', 'ShmemHugePages', 'ShmemPmdMapped', 'FileHugePages', 'FilePmdMapped',
    'HugePages_Total', 'HugePages_Free', 'HugePages_Rsvd', 'HugePages_Surp', 'Hugepagesize', 'Hugetlb',
    'DirectMap4k', 'DirectMap2M', 'DirectMap1G'], "Linux 6.8's fields, in its order");
});

t.test('S1-S3: smaps', async (t) => {
  const r = await sh('mmap 8K; write 0x7effffffe000 hi; cat /proc/self/smaps');
  t.match(r.stdout, /\nPss:                   4 kB\nPss_Dirty:             4 kB\nShared_Clean:/);
  t.match(r.stdout, /\nAnonymous:             4 kB\nKSM:                   0 kB\nLazyFree:/);
  t.match(r.stdout, /\nTHPeligible:           0\n/, '"THPeligible:    %8u"');
  t.match(r.stdout, /\nVmFlags: rd wr mr mw me ac \n$/, 'VM_ACCOUNT on private writable memory');
  const ro = await sh('mmap 8K r; cat /proc/self/smaps');
  t.match(ro.stdout, /\nVmFlags: rd mr mw me \n$/, 'read-only: not accounted');
});

t.test('ST1-ST4, F1: status and /proc/self', async (t) => {
  const r = await sh('cat /proc/self/status; cat /proc/1/status; ls /proc');
  const [self, init] = r.stdout.split(/(?=^Name:\t)/m);
  t.same(self.split('\n').filter(Boolean).map((l) => l.slice(0, l.indexOf(':'))), ['Name', 'Umask', 'State', 'Tgid',
    'Ngid', 'Pid', 'PPid', 'TracerPid', 'Uid', 'Gid', 'FDSize', 'Groups', 'NStgid', 'NSpid', 'NSpgid', 'NSsid', 'Kthread',
    'VmPeak', 'VmSize', 'VmLck', 'VmPin', 'VmHWM', 'VmRSS', 'RssAnon', 'RssFile', 'RssShmem', 'VmData', 'VmStk', 'VmExe',
    'VmLib', 'VmPTE', 'VmSwap', 'HugetlbPages', 'CoreDumping', 'THP_enabled', 'untag_mask', 'Threads', 'SigQ', 'SigPnd',
    'ShdPnd', 'SigBlk', 'SigIgn', 'SigCgt', 'CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', 'NoNewPrivs', 'Seccomp',
    'Seccomp_filters', 'Speculation_Store_Bypass', 'SpeculationIndirectBranch', 'Cpus_allowed', 'Cpus_allowed_list',
    'Mems_allowed', 'Mems_allowed_list', 'voluntary_ctxt_switches', 'nonvoluntary_ctxt_switches'], "6.x's fields in order");
  t.match(self, /^Name:\tsh\n[^]*\nPid:\t2\n/, '/proc/self is the reader');
  t.match(self, /\nGroups:\t \n/, 'Groups: always a trailing space');
  t.match(self, /\nState:\tR \(running\)\n/);
  t.match(init, /\nState:\tS \(sleeping\)\n/, 'init waits for its children');
  t.match(self, /\nCpus_allowed:\tf\nCpus_allowed_list:\t0-3\n/, 'the affinity mask, not the current CPU');
  t.match(self, /\nCapEff:\t000001ffffffffff\nCapBnd:\t000001ffffffffff\n/);
  t.ok(r.stdout.split('\n').includes('self'), 'ls /proc lists self');
  const g = await sh('su 1000; cat /proc/self/status');
  t.match(g.stdout, /\nUid:\t1000\t1000\t1000\t1000\n/);
  t.match(g.stdout, /\nCapEff:\t0000000000000000\n/);
});
