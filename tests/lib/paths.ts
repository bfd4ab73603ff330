/**
 * Where the repository is, for tests that read its files (sources, golden transcripts,
 * fixtures). `make test` runs the compiled tests under build/, so a test's own directory
 * is not a stable anchor: the root is the nearest directory above that holds package.json.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

function findRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

/** The repository's top directory. */
export const REPO_ROOT = findRoot(import.meta.dirname);
