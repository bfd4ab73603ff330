/**
 * true, false and `:` (the null utility): exit 0, 1 and 0, ignoring their arguments
 * (POSIX XCU true, false, colon).
 */
import type { Command } from '../registry.js';

export const trueCommand: Command<unknown> = {
  name: 'true',
  usage: 'true',
  summary: 'do nothing, successfully',
  run: () => 0,
};

export const falseCommand: Command<unknown> = {
  name: 'false',
  usage: 'false',
  summary: 'do nothing, unsuccessfully',
  run: () => 1,
};

export const colonCommand: Command<unknown> = {
  name: ':',
  usage: ': [ARG...]',
  summary: 'do nothing (the arguments are still expanded)',
  run: () => 0,
};
