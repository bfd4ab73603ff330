/**
 * A string in single quotes as sh reads it back ('\'' for a quote inside): what dash
 * writes for values in `set`, `export -p`, `readonly -p` and `trap` listings.
 */
export function singleQuote(v: string): string {
  return `'${v.replace(/'/g, `'\\''`)}'`;
}
