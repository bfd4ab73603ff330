/**
 * The filters: text and byte tools a shell user pipes output through. Each works with
 * any context (they read standard input or FILE operands through the shell's files).
 */
import type { Command } from '../../registry.js';

export const filterCommands: readonly Command<unknown>[] = [
];
