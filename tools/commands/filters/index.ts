/**
 * The filters: text and byte tools a shell user pipes output through. Each works with
 * any context: they read standard input, or FILE operands through the shell's files
 * (host files, and the kernel's /proc and /sys in the kernel shell).
 */
import type { Command } from '../../registry.js';
import { cutCommand } from './cut.js';
import { diffCommand } from './diff.js';
import { grepCommand } from './grep.js';
import { headCommand, tailCommand } from './head.js';
import { hexdumpCommand } from './hexdump.js';
import { sortCommand } from './sort.js';
import { teeCommand } from './tee.js';
import { trCommand } from './tr.js';
import { uniqCommand } from './uniq.js';
import { wcCommand } from './wc.js';
import { xxdCommand } from './xxd.js';

export const filterCommands: readonly Command<unknown>[] = [
  grepCommand, headCommand, tailCommand, wcCommand, sortCommand, uniqCommand, cutCommand,
  trCommand, teeCommand, xxdCommand, hexdumpCommand, diffCommand,
];
