import { singleQuote } from '../sh/quote.js';

/**
 * One shell word as the shell's parser reads it back (tools/lib/script.ts): bare when
 * it has no special characters, else in single quotes ('\'' for a quote inside).
 */
export function quoteWord(w: string): string {
  if (/^[A-Za-z0-9_@%+=:,./~-]+$/.test(w) && w !== '~.') return w;
  return singleQuote(w);
}
