/**
 * help: list the commands with their one-line summaries, or show one command's usage
 * (and its longer description, if it has one). The commands are the registry's and the
 * built-ins the shell's runner runs itself (set, shift, return, `.`, eval, local:
 * tools/sh/builtins.ts), in one sorted list; the functions defined in the session
 * follow on one line, since they have no summary.
 */
import { CommandError, UsageError, type Command } from '../registry.js';

export const helpCommand: Command<unknown> = {
  name: 'help',
  usage: 'help [COMMAND]',
  summary: 'list commands, or show how to use one',
  run(_ctx, args, io, sh) {
    if (args.length > 1) throw new UsageError('too many arguments');
    const functions = sh.functionNames();
    if (args.length === 1) {
      const name = args[0];
      // The order the shell looks a name up in: the runner's built-ins, then functions, then commands.
      const cmd = sh.builtins.find((b) => b.name === name) ?? sh.registry.get(name);
      const isFunction = functions.includes(name);
      if (!cmd && !isFunction) throw new CommandError(`no such command: ${name}`);
      if (!cmd || (isFunction && sh.registry.get(name) === cmd)) {
        io.out(`${name} is a function defined in this shell${cmd ? ', run instead of the command' : ''}\n`);
      }
      if (!cmd) return 0;
      io.out(`usage: ${cmd.usage}\n${cmd.summary}\n`);
      if (cmd.help) io.out(cmd.help.endsWith('\n') ? cmd.help : cmd.help + '\n');
      return 0;
    }
    const cmds = [...sh.registry.list(), ...sh.builtins].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const width = Math.max(0, ...cmds.map((c) => c.name.length));
    io.out('commands (help COMMAND for its usage):\n');
    for (const c of cmds) io.out(`  ${c.name.padEnd(width)}  ${c.summary}\n`);
    if (functions.length) io.out(`functions defined in this shell: ${functions.join(' ')}\n`);
    return 0;
  },
};
