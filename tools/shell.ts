/**
 * The shell's entry point (`make run` runs build/tools/shell.js): parse the options,
 * build the machine, boot the kernel (console lines on stderr), then run commands from
 * the prompt, -c, FILE or stdin through the shell runner (tools/main.ts).
 *
 * runShell() runs the same thing in-process with captured output, for tests and the
 * golden transcripts: same arguments (seed included) -> same output.
 */
// Host stack traces (MKTME_DEBUG=1) name .ts lines, not the compiled .js.
import 'source-map-support/register.js';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { shellCommands } from './commands/index.js';
import { bootKernelShell, onKernelBoot, shutdownKernelShell, type KernelShellContext } from './context.js';
import { spawn_login_shell } from './lib/process.js';
import { bufferIo, processIo } from './lib/io.js';
import { kernelFiles } from './lib/kernel_files.js';
import { shellMain, type ShellMainDeps } from './main.js';
import { promptFor } from './repl.js';
import { find_task_by_vpid } from '../kernel/sched.js';
import { preloadImages } from './vmm/kernel_image.js';

/**
 * Guest kernel images load asynchronously and `vm create` runs synchronously, so they
 * are loaded before the first command: one per `vm create` in a script's text (a loop
 * that creates more finds none ready and says so); at the prompt, two in the background.
 */
async function preloadGuestImages(script: string | null): Promise<void> {
  if (script === null) {
    preloadImages(2).catch(() => { /* vm create will say no image is ready */ });
    return;
  }
  const n = (script.match(/\bvm\s+create\b/g) ?? []).length;
  if (n) await preloadImages(n);
}

export interface ShellResult { stdout: string; stderr: string; status: number }

/** What the entry point gives shellMain besides argv, streams and terminal facts. */
/** After every boot the shell runs as a login shell, a child of init (pid 1). */
onKernelBoot((ctx) => {
  const pid = spawn_login_shell();
  if (pid > 0) ctx.pid = ctx.loginPid = pid;
});

export const kernelShellDeps: Omit<ShellMainDeps<KernelShellContext>, 'argv' | 'io' | 'stdin' | 'stdinIsTty'> = {
  commands: shellCommands,
  boot: async (options, io, script) => {
    const ctx = bootKernelShell(options, io);
    await preloadGuestImages(script);
    return ctx;
  },
  // `mktme# ` for root, `mktme$ ` for anyone else, as a shell shows it.
  prompt: (ctx) => promptFor((find_task_by_vpid(ctx.pid)?.cred.uid ?? 0) === 0),
  shutdown: (ctx) => shutdownKernelShell(ctx),
  files: (ctx) => kernelFiles(ctx),
  // $$ is the pid of the process the shell runs as.
  pid: (ctx) => ctx.pid,
};

/** Run the shell in this process with `argv` (after the program name) and `stdin`. */
export async function runShell(argv: string[], stdin = ''): Promise<ShellResult> {
  const buf = bufferIo(false, stdin);
  const status = await shellMain({ ...kernelShellDeps, argv, io: buf.io, stdin, stdinIsTty: false });
  return { stdout: buf.stdout, stderr: buf.stderr, status };
}

/** ~/.mktme_history, or $MKTME_HISTORY; an empty MKTME_HISTORY keeps no history. */
function historyFile(): string | undefined {
  const env = process.env.MKTME_HISTORY;
  if (env !== undefined) return env === '' ? undefined : env;
  return path.join(os.homedir(), '.mktme_history');
}

export async function main(): Promise<void> {
  const io = processIo();
  const history = historyFile();
  const status = await shellMain({
    ...kernelShellDeps,
    argv: process.argv.slice(2),
    io,
    stdin: process.stdin,
    stdinIsTty: Boolean(process.stdin.isTTY),
    promptOutput: process.stdout,
    ...(history ? { historyFile: history } : {}),
  });
  process.exitCode = status;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void main();
}
