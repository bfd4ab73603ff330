/**
 * trap's EXIT action where tools/main.ts ends a shell: after `-c` and FILE scripts, on
 * `exit`, and after an error that stops the script (tools/sh/trap.ts). The language's
 * details are compared against dash in sh_compare.test.ts.
 */
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runShell } from '../../tools/shell.js';

t.test('-c: the EXIT action runs at the end, on exit and after a special built-in\'s error', async (t) => {
  let r = await runShell(['--append', 'quiet', '-c', 'trap \'echo "bye $?"\' EXIT; echo hi; false']);
  t.same([r.stdout, r.status], ['hi\nbye 1\n', 1]);
  r = await runShell(['--append', 'quiet', '-c', 'trap "echo bye; exit 4" EXIT; exit 3']);
  t.same([r.stdout, r.status], ['bye\n', 4], 'exit in the action sets the status');
  r = await runShell(['--append', 'quiet', '-c', 'trap "echo bye" EXIT; shift 2; echo no']);
  t.same([r.stdout, r.stderr, r.status], ['bye\n', "shift: can't shift that many\n", 2]);
  r = await runShell(['--append', 'quiet', '-c', 'trap "echo bye" EXIT; trap - EXIT; echo hi']);
  t.same([r.stdout, r.status], ['hi\n', 0], 'reset: nothing runs');
});

t.test('a script FILE: the action sees the script\'s variables and its kernel state', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mktme-trap-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'job.sh');
  fs.writeFileSync(file, 'a=$(mmap 4K)\ntrap \'munmap $a 4K && echo "unmapped $a"\' EXIT\nwrite $a hi\nread $a 2\n');
  const r = await runShell(['--append', 'quiet', file]);
  t.same([r.stdout, r.status], ['hi\nunmapped 0x7efffffff000\n', 0]);
});
