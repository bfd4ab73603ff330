/**
 * A shell session on a kernel booted in this module's image: parse the shell's options,
 * build a Machine, boot the kernel on it (with the login shell, as tools/shell.ts does)
 * and hand back a Shell to run commands with, one at a time.
 *
 * Loaded from a guest image (tools/vmm/kernel_image.ts), this is that image's kernel and
 * tools: two sessions from two images share nothing but the machine's modules. The
 * `vm` command boots guests differently (on vCPUs, through KVM); this is the plain
 * "another kernel on its own board" form that tests use to show instances are separate.
 */
import { parseOptions } from '../options.js';
import { Registry, Shell, type ShellIo } from '../registry.js';
import { kernelShellDeps } from '../shell.js';
import type { KernelShellContext } from '../context.js';

export interface Session {
  readonly shell: Shell<KernelShellContext>;
  readonly ctx: KernelShellContext;
  /** Run a script (`cmd; cmd`); returns the status of the last command. */
  run(script: string): number;
  close(): void;
}

/** Boot with shell options `argv` (e.g. ['--seed', '3']); console lines go to io.err. */
export async function openSession(argv: readonly string[], io: ShellIo): Promise<Session> {
  const parsed = parseOptions([...argv, '-c', ''], false);
  if (parsed.kind !== 'run') throw new Error(parsed.kind === 'error' ? parsed.message : 'session: --help');
  const ctx = await kernelShellDeps.boot(parsed.options, io, null);
  const shell: Shell<KernelShellContext> = new Shell(new Registry(kernelShellDeps.commands), ctx, io, {
    files: kernelShellDeps.files!(() => shell.ctx),
    pid: () => shell.ctx.pid,
  });
  return {
    shell,
    ctx,
    run: (script) => shell.runScript(script),
    close: () => kernelShellDeps.shutdown?.(shell.ctx, shell.lastStatus),
  };
}
