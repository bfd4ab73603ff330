/**
 * taskset -pc: util-linux's words and its CPU-list format (lib/cpuset.c cpulist_create).
 */
import t from 'tap';
import { runShell } from '../../tools/shell.js';
import { cpulist_create } from '../../tools/commands/taskset.js';

t.test('cpulist_create: runs of three or more as a range, pairs and singles listed', async (t) => {
  t.equal(cpulist_create([0, 1, 2, 3]), '0-3');
  t.equal(cpulist_create([0, 1]), '0,1');
  t.equal(cpulist_create([3]), '3');
  t.equal(cpulist_create([0, 2, 3, 4, 5, 7]), '0,2-5,7');
  t.equal(cpulist_create([5, 4, 1, 3, 2]), '1-5', 'any order');
  t.equal(cpulist_create([]), '');
});

t.test('taskset -pc CPU PID on the default machine (4 CPUs)', async (t) => {
  const r = await runShell(['--append', 'quiet', '-c', 'fork >/dev/null; taskset -pc 1 2; taskset -pc 3 2; taskset -pc 9 2']);
  t.equal(r.stdout, "pid 2's current affinity list: 0-3\npid 2's new affinity list: 1\n" +
    "pid 2's current affinity list: 1\npid 2's new affinity list: 3\n");
  t.equal(r.stderr, "taskset: failed to set pid 2's affinity: Invalid argument\n", 'an offline CPU: EINVAL');
});
