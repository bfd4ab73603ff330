/**
 * vm: virtual machines on this kernel's KVM, each run by a VMM process (tools/vmm/vmm.ts).
 *
 *   vm create NAME [--mem SIZE] [--cpus N] [--key SERIAL] [--append 'CMDLINE']
 *                  [--share SHMNAME:GPA:SIZE[:SERIAL]]...
 *       boot a guest (this kernel, unmodified) to its shell prompt. Guest RAM is the
 *       VMM's anonymous memory, on the KeyID of mktme key SERIAL (KeyID 0 without
 *       --key). Each --share maps the POSIX shm object SHMNAME at guest-physical GPA, on
 *       SERIAL's KeyID (0 without): the same SHMNAME in two VMs is the same host frames.
 *       --cpus N (1..4): N vCPUs, each with its own VMCS; the guest brings its APs up
 *       by IPIs (x2APIC ICR writes, which KVM runs synchronously on one KVM_RUN loop).
 *   vm exec NAME 'cmd; cmd'    run shell commands in the guest (its guest agent); print
 *                              their output; the status is theirs
 *   vm console NAME            the shell's input goes to the guest's serial console until
 *                              a line `~.` (the escape of ssh and cu); output is the
 *                              console's
 *   vm ept NAME GPA [LEN]      the EPT leaf of each page: 0xGPA hpa=0xHPA keyid=N flags=...
 *                              (root only, like pagemap's frame numbers)
 *   vm ept -w NAME GPA HPA KEYID
 *                              point the guest frame GPA at host frame HPA under KEYID
 *                              (root; KVM_SET_EPT_ENTRY, for threat demonstrations)
 *   vm list                    NAME, VMM pid, memory, vCPUs, KeyID, shared regions
 *   vm destroy NAME            stop the guest and its VMM process
 */
import { CommandError, UsageError, type Command, type ShellApi, type ShellIo } from '../registry.js';
import { onKernelBoot, type KernelShellContext } from '../context.js';
import { formatHex } from '../lib/parse.js';
import { parse_addr, parse_len, shell_task } from '../lib/process.js';
import { VMM_MAX_CPUS, Vm, vm_create, vm_destroy, vm_release, type ShareSpec, type VmConfig } from '../vmm/vmm.js';
import { capable } from '../../kernel/capability.js';
import { CAP_SYS_ADMIN } from '../../include/linux/capability.js';
import { run_as } from '../../kernel/sched.js';
import { encrypt_key_lookup } from '../../kernel/cred.js';
import { strerror } from '../../kernel/errno.js';
import { quoteWord } from '../vmm/quote.js';

const PAGE = 4096;
const NAME_RE = /^[A-Za-z][A-Za-z0-9_.-]{0,31}$/;
const MAX_EPT_PAGES = 256;
export const CONSOLE_ESCAPE = '~.';

/** The VMs of this shell's kernel (a reboot of the host ends them all). */
const vms = new Map<string, Vm>();
onKernelBoot(() => {
  for (const vm of vms.values()) vm_release(vm); // their VMM processes went with the old kernel
  vms.clear();
});

function vmNamed(name: string | undefined): Vm {
  if (name === undefined) throw new UsageError('missing NAME');
  const vm = vms.get(name);
  if (!vm) throw new CommandError(`${name}: no such VM`);
  return vm;
}

function serialArg(s: string, what: string): number {
  if (!/^-?[0-9]+$/.test(s)) throw new UsageError(`${what}: a key serial, not '${s}'`);
  return Number(s);
}

function parseShare(s: string): ShareSpec {
  const parts = s.split(':');
  if (parts.length < 3 || parts.length > 4 || !parts[0]) throw new UsageError(`--share SHMNAME:GPA:SIZE[:SERIAL], not '${s}'`);
  const gpa = parse_addr(parts[1], 'GPA');
  const size = parse_len(parts[2], 'SIZE');
  if (gpa % PAGE || size % PAGE || size === 0) throw new UsageError('--share: GPA and SIZE must be page multiples');
  return { name: parts[0], gpa, size, serial: parts[3] === undefined ? null : serialArg(parts[3], '--share') };
}

function parseCreate(args: string[]): VmConfig {
  const [name, ...rest] = args;
  if (name === undefined) throw new UsageError('missing NAME');
  if (!NAME_RE.test(name)) throw new UsageError(`NAME: letters, digits, '_', '.', '-' (not '${name}')`);
  const cfg: VmConfig = { name, memSize: 64 << 20, cpus: 1, serial: null, append: '', shares: [] };
  for (let i = 0; i < rest.length; i++) {
    const opt = rest[i];
    const val = rest[i + 1];
    if (!['--mem', '--cpus', '--key', '--append', '--share'].includes(opt)) throw new UsageError(`unknown option '${opt}'`);
    if (val === undefined) throw new UsageError(`${opt} needs a value`);
    i++;
    if (opt === '--mem') cfg.memSize = parse_len(val, '--mem');
    else if (opt === '--cpus') {
      if (!/^[0-9]+$/.test(val) || Number(val) < 1 || Number(val) > 64) throw new UsageError(`--cpus: 1..64, not '${val}'`);
      // KVM takes more; every guest CPU boots (identify_cpu) and is reached by IPIs
      // nested on one stack, so this VMM keeps guests small.
      if (Number(val) > VMM_MAX_CPUS) throw new CommandError(`--cpus: this VMM runs at most ${VMM_MAX_CPUS} vCPUs per VM, not ${val}`);
      cfg.cpus = Number(val);
    } else if (opt === '--key') cfg.serial = serialArg(val, '--key');
    else if (opt === '--append') cfg.append = val;
    else cfg.shares.push(parseShare(val));
  }
  if (cfg.memSize < 16 << 20 || cfg.memSize % (2 << 20) || cfg.memSize > 1 << 30) {
    throw new UsageError('--mem: a multiple of 2M from 16M to 1G');
  }
  const ranges = [{ gpa: 0, size: cfg.memSize, name: 'RAM' }, ...cfg.shares.map((s) => ({ ...s }))].sort((a, b) => a.gpa - b.gpa);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i].gpa < ranges[i - 1].gpa + ranges[i - 1].size) {
      throw new UsageError(`--share ${ranges[i].name}: overlaps ${ranges[i - 1].name}`);
    }
  }
  if (cfg.shares.some((s) => s.gpa + s.size > 2 ** 39)) throw new UsageError('--share: GPA beyond 512 GiB');
  return cfg;
}

function keyidOf(vm: Vm): number {
  if (vm.cfg.serial === null) return 0;
  const k = encrypt_key_lookup(vm.task.cred, vm.cfg.serial);
  if (typeof k === 'number') return -1;
  k.release();
  return k.keyid;
}

function eptFlags(flags: number): string {
  const f: string[] = [];
  if (flags & 1) f.push('r');
  if (flags & 2) f.push('w');
  if (flags & 4) f.push('x');
  if (flags & 0x100) f.push('accessed');
  if (flags & 0x200) f.push('dirty');
  return f.join(',');
}

function ept(ctx: KernelShellContext, args: string[], io: ShellIo): number {
  if (args[0] === '-w') return eptWrite(ctx, args.slice(1));
  const [name, gpaArg, lenArg] = args;
  if (gpaArg === undefined || args.length > 3) throw new UsageError('ept NAME GPA [LEN]');
  const vm = vmNamed(name);
  if (!run_as(shell_task(ctx), () => capable(CAP_SYS_ADMIN))) throw new CommandError(`ept: ${strerror(-1)}`);
  const gpa = parse_addr(gpaArg, 'GPA');
  const len = lenArg === undefined ? 1 : parse_len(lenArg);
  const first = gpa - (gpa % PAGE);
  const pages = Math.ceil((gpa + Math.max(len, 1) - first) / PAGE);
  if (pages > MAX_EPT_PAGES) throw new UsageError(`LEN: at most ${MAX_EPT_PAGES} pages`);
  let out = '';
  for (let p = 0; p < pages; p++) {
    const g = first + p * PAGE;
    const e = vm.eptEntry(g);
    if (typeof e === 'number') throw new CommandError(`ept: ${strerror(e)}`);
    out += e.present
      ? `${formatHex(g)} hpa=${formatHex(e.hpa)} keyid=${e.keyid} flags=${eptFlags(e.flags)}\n`
      : `${formatHex(g)} not present\n`;
  }
  io.out(out);
  return 0;
}

function eptWrite(ctx: KernelShellContext, args: string[]): number {
  if (args.length !== 4) throw new UsageError('ept -w NAME GPA HPA KEYID');
  const vm = vmNamed(args[0]);
  if (!run_as(shell_task(ctx), () => capable(CAP_SYS_ADMIN))) throw new CommandError(`ept: ${strerror(-1)}`);
  const gpa = parse_addr(args[1], 'GPA');
  const hpa = parse_addr(args[2], 'HPA');
  const keyid = parse_addr(args[3], 'KEYID');
  if (gpa % PAGE || hpa % PAGE) throw new UsageError('GPA and HPA must be page aligned');
  const ret = vm.setEptEntry({ gpa, hpa, keyid, flags: 7, present: true });
  if (ret < 0) throw new CommandError(`ept: ${strerror(ret)}`);
  return 0;
}

function list(io: ShellIo): number {
  const rows = [['NAME', 'PID', 'MEM', 'CPUS', 'KEYID', 'SHARED']];
  for (const vm of vms.values()) {
    const shares = vm.cfg.shares.map((s) => `${s.name}@${formatHex(s.gpa)}`).join(',') || '-';
    rows.push([vm.cfg.name, String(vm.pid), `${vm.cfg.memSize >> 20}M`, String(vm.cfg.cpus), String(keyidOf(vm)), shares]);
  }
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  io.out(rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]))).join('  ')).join('\n') + '\n');
  return 0;
}

function console_(args: string[], io: ShellIo, sh: ShellApi<KernelShellContext>): number {
  if (args.length !== 1) throw new UsageError('console NAME');
  const vm = vmNamed(args[0]);
  io.out(vm.takeConsole());
  // Every later line goes to the guest's console, until the escape.
  sh.redirect = (argv, out) => {
    if (argv.length === 1 && argv[0] === CONSOLE_ESCAPE) {
      sh.redirect = null;
      if (!out.isTty) out.out(`${CONSOLE_ESCAPE}\n`);
      return 0;
    }
    const line = argv.map(quoteWord).join(' ');
    if (!out.isTty) out.out(line + '\n'); // a transcript shows what was typed
    try {
      out.out(vm.type(line + '\n'));
    } catch (e) {
      sh.redirect = null;
      throw e;
    }
    return 0;
  };
  return 0;
}

export const vmCommand: Command<KernelShellContext> = {
  name: 'vm',
  usage: 'vm create NAME [--mem SIZE] [--cpus N] [--key SERIAL] [--append CMDLINE] [--share SHM:GPA:SIZE[:SERIAL]]... | ' +
    'exec NAME SCRIPT | console NAME | ept [-w] NAME GPA [LEN | HPA KEYID] | list | destroy NAME',
  summary: 'virtual machines: this kernel as a guest, run by a VMM process on /dev/kvm',
  help: `vm console ends with a line '${CONSOLE_ESCAPE}'. Guest RAM is the VMM's memory on --key's KeyID;\n` +
    '--share maps a shm object shared by every VM that names it, on its SERIAL\'s KeyID.\n' +
    `--cpus N: 1 to ${VMM_MAX_CPUS} vCPUs (a VMCS each); the guest wakes its APs by IPI.`,
  run(ctx, args, io, sh) {
    const [sub, ...rest] = args;
    switch (sub) {
      case 'create': {
        const cfg = parseCreate(rest);
        if (vms.has(cfg.name)) throw new CommandError(`${cfg.name}: a VM of that name exists`);
        const vm = vm_create(cfg, shell_task(ctx));
        vms.set(cfg.name, vm);
        // The boot log is the guest's dmesg; the console keeps only the prompt.
        vm.console = vm.console.slice(vm.console.lastIndexOf('\n') + 1);
        io.out(`${cfg.name}: running, VMM pid ${vm.pid}\n`);
        return 0;
      }
      case 'exec': {
        if (rest.length < 2) throw new UsageError('exec NAME SCRIPT');
        const vm = vmNamed(rest[0]);
        const r = vm.exec(rest.slice(1).join(' '));
        if (r.out) io.out(r.out);
        if (r.err) io.err(r.err);
        return r.status;
      }
      case 'console': return console_(rest, io, sh);
      case 'ept': return ept(ctx, rest, io);
      case 'list': if (rest.length) throw new UsageError(); return list(io);
      case 'destroy': {
        if (rest.length !== 1) throw new UsageError('destroy NAME');
        const vm = vmNamed(rest[0]);
        vms.delete(rest[0]);
        vm_destroy(vm, shell_task(ctx));
        return 0;
      }
      default: throw new UsageError(sub === undefined ? '' : `unknown subcommand '${sub}'`);
    }
  },
};

/** The VM named `name` (tests, bench). */
export function vm_lookup(name: string): Vm | null { return vms.get(name) ?? null; }
