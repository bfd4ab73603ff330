/**
 * One boot in a fresh Node process, the way `make run` boots (parse the shell's options,
 * build the Machine, BIOS, start_kernel, initcalls, init), so the JIT starts cold as it
 * does for a user. Shared by the `boottime` and `bigboot` sections.
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

export interface FreshBoot { ms: number; rssBytes: number }

/** Boot with shell options `argv`; host milliseconds to the prompt and the RSS there. */
export function freshBoot(argv: readonly string[]): FreshBoot {
  const here = import.meta.dirname;
  const opts = path.resolve(here, '../tools/options.js');
  const ctx = path.resolve(here, '../tools/context.js');
  const io = path.resolve(here, '../tools/lib/io.js');
  const script = `
    const { parseOptions } = await import(${JSON.stringify(opts)});
    const { bootKernelShell, shutdownKernelShell } = await import(${JSON.stringify(ctx)});
    const { bufferIo } = await import(${JSON.stringify(io)});
    const r = parseOptions(${JSON.stringify(['-c', 'true', ...argv])}, false);
    if (r.kind !== 'run') throw new Error('options');
    const t0 = performance.now();
    const c = bootKernelShell(r.options, bufferIo().io);
    const ms = performance.now() - t0;
    const rss = process.memoryUsage().rss;
    shutdownKernelShell(c);
    process.stdout.write(ms + ' ' + rss);
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  const [ms, rssBytes] = out.trim().split(' ').map(Number);
  return { ms, rssBytes };
}
