/**
 * fork: the shell's process forks (fork(2)); the shell carries on as the parent and
 * prints the child's PID. Private memory is copied into the child (same KeyIDs),
 * shared mappings stay shared.
 */
import { sys_fork } from '../../kernel/fork.js';
import { type Command } from '../registry.js';
import type { KernelShellContext } from '../context.js';
import { as_task, check, nargs } from '../lib/process.js';

export const forkCommand: Command<KernelShellContext> = {
  name: 'fork',
  usage: 'fork',
  summary: 'fork the current process, print the child PID',
  run(ctx, args, io) {
    nargs(args, 0, 0);
    const pid = check(as_task(ctx, sys_fork));
    io.out(`${pid}\n`);
    return 0;
  },
};
