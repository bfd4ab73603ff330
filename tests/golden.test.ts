/**
 * Golden transcripts of the kernel shell: every tests/golden/NAME.sh is run through the
 * real entry point in-process (tools/shell.ts runShell) and must reproduce NAME.out
 * exactly (stdout, stderr with the console log, status). UPDATE_GOLDEN=1 rewrites them.
 */
import t from 'tap';
import { runShell } from '../tools/shell.js';
import { GOLDEN_DIR, runGoldenDir } from './tools/golden.js';

await runGoldenDir(t, GOLDEN_DIR, runShell);
