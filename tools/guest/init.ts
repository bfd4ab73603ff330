/**
 * A guest's user space (the image's initramfs, in kvmtool terms): what runs once the
 * guest kernel is up, on the guest's own kernel instance (tools/ is part of the image,
 * tools/vmm/layout.ts).
 *
 *  - ttyS0 (the console): a login shell, as a getty would start it (pid 2, a child of
 *    init). It prints the prompt, and each line arriving on the serial port runs
 *    through the same shell runner as the host's; output goes back out of the UART.
 *    When that shell exits, init starts another (as it respawns a getty).
 *  - ttyS1: a guest agent in the spirit of qemu-guest-agent's guest-exec: one JSON
 *    request per line, {"exec": "cmd; cmd"}; it runs the script in its own shell
 *    process (comm "mktme-ga") and answers one JSON line {"out", "err", "status"}.
 *    This is how `vm exec` gets a command's output and exit status apart from the
 *    console's interleaved stream. Each request runs in a new child of the agent, as
 *    guest-exec spawns a process, so `exit 3` ends that child with status 3 and the
 *    agent carries on.
 *
 * The guest's shell context has no Machine: the board's instruments (dimm, cache,
 * stat, suspend) refuse inside a guest (tools/context.ts board()).
 */
import { parseOptions } from '../options.js';
import { CommandError, Registry, Shell, errorMessage, type ShellIo } from '../registry.js';
import { shellCommands } from '../commands/index.js';
import { promptFor } from '../repl.js';
import { kernelFiles } from '../lib/kernel_files.js';
import { noFiles } from '../lib/files.js';
import type { KernelShellContext } from '../context.js';
import { spawn_login_shell } from '../lib/process.js';
import { find_task_by_vpid, run_as, set_task_comm } from '../../kernel/sched.js';
import { kernel_clone } from '../../kernel/fork.js';
import { do_exit, kernel_wait4 } from '../../kernel/exit.js';
import { tty_lookup, tty_set_reader, tty_write, type tty_struct } from '../../drivers/tty/tty_io.js';

export interface GuestAgentReply { out: string; err: string; status: number }

function guest_context(pid: number): KernelShellContext {
  const parsed = parseOptions(['-c', ''], false);
  if (parsed.kind !== 'run') throw new Error('guest: shell options');
  const refuse = (what: string): never => {
    throw new CommandError(`not available inside a guest (${what} the VM from the host: vm destroy, vm create)`);
  };
  return {
    machine: null,
    options: parsed.options,
    cmdline: '',
    pid,
    loginPid: pid,
    boots: 1,
    reboot: () => refuse('restart'),
    poweroff: () => refuse('stop'),
  };
}

function ttyIo(tty: tty_struct): ShellIo {
  return { out: (s) => tty_write(tty, s), err: (s) => tty_write(tty, s), isTty: true };
}

/** A shell as the host's entry point makes one: the kernel's files, $$ = its process. */
/** A guest's shell: its own kernel's /proc, /sys and /dev, and none of the host's files. */
function shellOn(registry: Registry<KernelShellContext>, ctx: KernelShellContext, io: ShellIo): Shell<KernelShellContext> {
  const sh: Shell<KernelShellContext> = new Shell(registry, ctx, io, {
    files: kernelFiles(() => sh.ctx, noFiles),
    pid: () => sh.ctx.pid,
  });
  return sh;
}

function prompt(shell: Shell<KernelShellContext>): string {
  return promptFor((find_task_by_vpid(shell.ctx.pid)?.cred.uid ?? 0) === 0);
}

/** Start the guest's user space. Returns 0, or -1 when the guest has no console port. */
export function guest_init(): number {
  const console = tty_lookup('ttyS0');
  if (!console) return -1;
  const registry = new Registry(shellCommands);
  const getty = (): Shell<KernelShellContext> | null => {
    const pid = spawn_login_shell();
    return pid < 0 ? null : shellOn(registry, guest_context(pid), ttyIo(console));
  };
  let sh = getty();
  if (!sh) return -1;
  tty_write(console, prompt(sh));
  tty_set_reader(console, (line) => {
    if (!sh) return;
    sh.runScript(line, 'ttyS0');
    if (sh.exited) {
      sh.runExitTrap(sh.lastStatus); // the console's login shell ends: its EXIT trap
      const gone = find_task_by_vpid(sh.ctx.pid);
      if (gone && !gone.exit_state) do_exit(gone, 0);
      const init = find_task_by_vpid(1);
      if (gone && init) kernel_wait4(init, gone.pid, null);
      sh = getty();
    }
    if (sh) tty_write(console, prompt(sh));
  });

  const agentTty = tty_lookup('ttyS1');
  if (agentTty) {
    const apid = spawn_login_shell();
    const atask = apid > 0 ? find_task_by_vpid(apid) : null;
    if (atask) {
      set_task_comm(atask, 'mktme-ga');
      tty_set_reader(agentTty, (line) => tty_write(agentTty, JSON.stringify(agent_exec(registry, apid, line)) + '\n'));
    }
  }
  return 0;
}

/** One guest-exec request: run the script, capture its output and status. */
function agent_exec(registry: Registry<KernelShellContext>, pid: number, line: string): GuestAgentReply {
  let req: unknown;
  try {
    req = JSON.parse(line);
  } catch (e) {
    return { out: '', err: `mktme-ga: bad request: ${errorMessage(e)}\n`, status: 2 };
  }
  const script = (req as { exec?: unknown } | null)?.exec;
  if (typeof script !== 'string') return { out: '', err: 'mktme-ga: request needs "exec": "commands"\n', status: 2 };
  let out = '';
  let err = '';
  const io: ShellIo = { out: (s) => { out += s; }, err: (s) => { err += s; }, isTty: false };
  const agent = find_task_by_vpid(pid);
  if (!agent || agent.exit_state) return { out: '', err: 'mktme-ga: the agent process is gone\n', status: 1 };
  const child = run_as(agent, () => kernel_clone(agent));
  const tsk = child > 0 ? find_task_by_vpid(child) : null;
  if (!tsk) return { out: '', err: `mktme-ga: fork failed (${child})\n`, status: 1 };
  set_task_comm(tsk, 'sh');
  const sh = shellOn(registry, guest_context(child), io);
  const status = sh.runExitTrap(sh.runScript(script, 'exec')); // sh -c's end: its EXIT trap
  // The child's script is over: end it if it still runs, and reap it.
  const last = find_task_by_vpid(sh.ctx.pid);
  if (last && !last.exit_state && last.pid !== pid) do_exit(last, status << 8);
  if (!tsk.exit_state) do_exit(tsk, status << 8);
  kernel_wait4(agent, child, null);
  return { out, err, status };
}
