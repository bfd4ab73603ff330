/**
 * A guest's user space (the image's initramfs, in kvmtool terms): what runs once the
 * guest kernel is up, on the guest's own kernel instance (tools/ is part of the image,
 * tools/vmm/layout.ts).
 *
 *  - ttyS0 (the console): a login shell, as a getty would start it (pid 2, a child of
 *    init). It prints the prompt, and each line arriving on the serial port runs
 *    through the same shell runner as the host's; output goes back out of the UART.
 *  - ttyS1: a guest agent in the spirit of qemu-guest-agent's guest-exec: one JSON
 *    request per line, {"exec": "cmd; cmd"}; it runs the script in its own shell
 *    process (comm "mktme-ga") and answers one JSON line {"out", "err", "status"}.
 *    This is how `vm exec` gets a command's output and exit status apart from the
 *    console's interleaved stream.
 *
 * The guest's shell context has no Machine: the board's instruments (dimm, cache,
 * stat, suspend) refuse inside a guest (tools/context.ts board()).
 */
import { kernelFiles } from '../lib/kernel_files.js';
import { noFiles } from '../lib/files.js';
import { parseOptions } from '../options.js';
import { CommandError, Registry, Shell, errorMessage, type ShellIo } from '../registry.js';
import { shellCommands } from '../commands/index.js';
import { promptFor } from '../repl.js';
import type { KernelShellContext } from '../context.js';
import { spawn_login_shell } from '../lib/process.js';
import { find_task_by_vpid, set_task_comm } from '../../kernel/sched.js';
import { tty_lookup, tty_set_reader, tty_write, type tty_struct } from '../../drivers/tty/tty_io.js';

export interface GuestAgentReply { out: string; err: string; status: number }

/** A guest shell: its own kernel's /proc, /sys and /dev, and nothing of the host's files. */
function guestShell(registry: Registry<KernelShellContext>, pid: number, io: ShellIo): Shell<KernelShellContext> {
  const sh: Shell<KernelShellContext> = new Shell(registry, guest_context(pid), io, {
    files: kernelFiles(() => sh.ctx, noFiles),
  });
  return sh;
}

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

function prompt(shell: Shell<KernelShellContext>): string {
  return promptFor((find_task_by_vpid(shell.ctx.pid)?.cred.uid ?? 0) === 0);
}

/** Start the guest's user space. Returns 0, or -1 when the guest has no console port. */
export function guest_init(): number {
  const console = tty_lookup('ttyS0');
  if (!console) return -1;
  const pid = spawn_login_shell();
  if (pid < 0) return -1;
  const registry = new Registry(shellCommands);
  const sh = guestShell(registry, pid, ttyIo(console));
  tty_write(console, prompt(sh));
  tty_set_reader(console, (line) => {
    if (sh.exited) return;
    sh.runScript(line, 'ttyS0');
    if (!sh.exited) tty_write(console, prompt(sh));
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
  const sh = guestShell(registry, pid, io);
  const status = sh.runScript(script, 'exec');
  return { out, err, status };
}
