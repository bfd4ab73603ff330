/**
 * help: list the commands with their one-line summaries, or show one command's usage
 * (and its longer description, if it has one).
 */
import { CommandError, UsageError, type Command } from '../registry.js';

export const helpCommand: Command<unknown> = {
  name: 'help',
  usage: 'help [COMMAND]',
  summary: 'list commands, or show how to use one',
  run(_ctx, args, io, sh) {
    if (args.length > 1) throw new UsageError('too many arguments');
    if (args.length === 1) {
      const cmd = sh.registry.get(args[0]);
      if (!cmd) throw new CommandError(`no such command: ${args[0]}`);
      io.out(`usage: ${cmd.usage}\n${cmd.summary}\n`);
      if (cmd.help) io.out(cmd.help.endsWith('\n') ? cmd.help : cmd.help + '\n');
      return 0;
    }
    const cmds = sh.registry.list();
    const width = Math.max(0, ...cmds.map((c) => c.name.length));
    io.out('commands (help COMMAND for its usage):\n');
    for (const c of cmds) io.out(`  ${c.name.padEnd(width)}  ${c.summary}\n`);
    return 0;
  },
};
