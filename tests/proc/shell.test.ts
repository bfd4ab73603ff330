/**
 * The process and memory commands through the shell runner: output formats, errno
 * messages, the shell following its process through fork, switch, su, a segfault and
 * exit, and bad input answered with a usage message (never a host stack trace).
 */
import t from 'tap';
import { bootKernel, SMALL } from '../lib/boot.js';
import { add_mktme_key } from '../lib/task.js';
import { runShell } from '../../tools/shell.js';
import { Registry, Shell } from '../../tools/registry.js';
import { shellCommands } from '../../tools/commands/index.js';
import { bufferIo } from '../../tools/lib/io.js';
import { formatHexdump } from '../../tools/lib/parse.js';
import type { KernelShellContext } from '../../tools/context.js';
import { find_task_by_vpid } from '../../kernel/sched.js';

function shell() {
  const r = bootKernel(SMALL);
  const buf = bufferIo();
  const ctx = { pid: 1 } as KernelShellContext;
  const sh = new Shell(new Registry(shellCommands), ctx, buf.io);
  let seen = 0;
  /** Run a line; return what it printed since the last call and its status. */
  const run = (line: string): { out: string; status: number } => {
    const status = sh.runScript(line);
    const out = buf.all.slice(seen);
    seen = buf.all.length;
    return { out, status };
  };
  return { r, ctx, sh, run };
}

t.test('a session', async (t) => {
  const { r, ctx, sh, run } = shell();
  t.same(run('ps'), { out: '  PID  PPID   UID PSR STAT   RSS COMMAND\n    1     0     0   0 R+       0 init\n', status: 0 });
  t.same(run('mmap 8K'), { out: '0x7effffffe000\n', status: 0 });
  t.same(run('write 0x7effffffe000 hello   world'), { out: '', status: 0 });
  t.same(run('read 0x7effffffe000 64'), { out: 'hello world\n', status: 0 });
  t.same(run('read 0x7effffffe000 16 -x'), {
    out: '00007effffffe000  68 65 6c 6c 6f 20 77 6f  72 6c 64 00 00 00 00 00  |hello world.....|\n', status: 0,
  });
  t.same(run('write 0x7efffffff000 hex:00ff41'), { out: '', status: 0 });
  t.same(run('read 0x7efffffff001 2 -x'), { out: formatHexdump(0x7efffffff001, Uint8Array.of(0xff, 0x41)), status: 0 });
  const pm = run('pagemap 0x7effffffe000 12K');
  t.match(pm.out, /^0x7effffffe000 pfn=0x[0-9a-f]+ keyid=0 flags=present,rw,user,accessed,dirty,nx\n0x7efffffff000 pfn=0x[0-9a-f]+ keyid=0 flags=present,rw,user,accessed,dirty,nx\n0x7f0000000000 not present\n$/);

  // encrypt_mprotect with a real key, then the PTE shows its KeyID.
  const serial = add_mktme_key(r.init.cred, 'shellkey');
  t.same(run(`encrypt_mprotect 0x7effffffe000 4K rw ${serial}`), { out: '', status: 0 });
  t.same(run('read 0x7effffffe000 5 -x'), { out: formatHexdump(0x7effffffe000, new Uint8Array(5)), status: 0 }, 'contents discarded');
  t.match(run('pagemap 0x7effffffe000').out, /^0x7effffffe000 pfn=0x[0-9a-f]+ keyid=1 flags=present,rw,user,accessed,nx\n$/);
  t.same(run('encrypt_mprotect 0x7effffffe000 4K rw 999'), { out: 'encrypt_mprotect: Required key not available\n', status: 1 });
  t.same(run('encrypt_mprotect 0x7effffffe001 4K rw -1'), { out: 'encrypt_mprotect: Invalid argument\n', status: 1 });
  t.same(run('mprotect 0x7effffffe000 4K r'), { out: '', status: 0 });
  t.same(run('mprotect 0x7effffffe000 4K rwz'), { out: "mprotect: PROT must be letters from r, w, x or 'none', not 'rwz'\nusage: mprotect ADDR LEN PROT\n", status: 2 });
  t.same(run('mmap 0'), { out: 'mmap: Invalid argument\n', status: 1 });
  t.same(run('mmap 4K rw shared'), { out: '0x7effffffd000\n', status: 0 });
  t.same(run('munmap 0x7effffffd000 4K'), { out: '', status: 0 });
  t.same(run('munmap 0x7effffffd001 4K'), { out: 'munmap: Invalid argument\n', status: 1 });

  // fork: the shell stays the parent; switch to the child; the child segfaults.
  t.same(run('fork'), { out: '2\n', status: 0 });
  t.equal(ctx.pid, 1);
  t.match(run('ps').out, /\n {4}1 {5}0 {5}0 {3}\d R\+ .* init\n {4}2 {5}1 {5}0 {3}\d S .* init\n$/,
    'ps: the shell\'s process running (R+), the child sleeping (S), as its /proc/2/status says');
  t.match(run('cat /proc/2/status').out, /\nState:\tS \(sleeping\)\n/);
  t.same(run('switch 2'), { out: '', status: 0 });
  t.equal(ctx.pid, 2);
  t.match(run('ps').out, /\n {4}1 {5}0 {5}0 {3}\d S .* init\n {4}2 {5}1 {5}0 {3}\d R\+ .* init\n$/, 'and the other way round after switch');
  t.same(run('read 0x7efffffff001 2 -x'), { out: formatHexdump(0x7efffffff001, Uint8Array.of(0xff, 0x41)), status: 0 }, 'the child has a copy');
  t.same(run('write 0x7effffffe000 x'), { out: 'Segmentation fault\n', status: 139 }, 'store to the read-only page');
  t.equal(ctx.pid, 1, 'back to the parent');
  t.equal(find_task_by_vpid(2), null, 'the child is gone');
  t.same(run('switch 2'), { out: 'switch: 2: No such process\n', status: 1 });

  // su: a new process as uid 1000, without root's rights.
  t.same(run('su 1000'), { out: '', status: 0 });
  t.equal(ctx.pid, 3);
  t.match(run('ps').out, /\n    3     1  1000   2 R\+ +8 sh\n$/);
  // no CAP_SYS_ADMIN: the entry's flags, with PFN and KeyID zeroed (pagemap since Linux 4.2)
  t.same(run('pagemap 0x7effffffe000'), { out: '0x7effffffe000 pfn=0x0 keyid=0 flags=present,user,accessed,nx\n', status: 0 });
  t.same(run(`encrypt_mprotect 0x7effffffe000 4K rw ${serial}`), { out: 'encrypt_mprotect: Permission denied\n', status: 1 });
  t.same(run('su 0'), { out: 'su: Authentication failure\n', status: 1 });
  t.same(run('exit 4'), { out: '', status: 4 });
  t.equal(ctx.pid, 1, 'exit returns to the parent');
  t.same(run('exit 5'), { out: '', status: 5 });
  t.ok(sh.exited, 'exit from init stops the shell');
  t.notOk(find_task_by_vpid(1)!.exit_state, 'init itself is left running');
});

t.test('bad input', async (t) => {
  const { run } = shell();
  for (const line of [
    'mmap', 'mmap 4K rw shared extra', 'mmap 4Q', 'mmap 4K rr', 'munmap 0x1000', 'mprotect 1 2', 'read 0x1000',
    'read 0x1000 2M', 'write 0x1000', 'write 0x1000 hex:abc', 'pagemap', 'pagemap 0x1000 1G', 'switch x', 'su -1',
    'su 4294967295', 'encrypt_mprotect 0 4K rw 0x', 'encrypt_mprotect 0 4K rw 99999999999', 'fork now', 'ps aux',
  ]) {
    const r = run(line);
    t.equal(r.status, 2, `${line}: usage error`);
    t.notMatch(r.out, /internal error|at .*\.ts/, `${line}: no stack trace`); // a guard: absence is the point
  }
  t.same(run('read 0xffffffffffff 4'), { out: 'Segmentation fault\n', status: 139 }, 'bad address read from init');
});

t.test('end to end: the real shell runs a login shell under init', async (t) => {
  const r = await runShell(['-c', 'ps; mmap 4K; write 0x7efffffff000 hi; read 0x7efffffff000 2; fork; switch 3; ps; ' +
    'cat /proc/3/status; exit 9; read 0 1; ps; exit 7; echo not reached']);
  t.equal(r.stdout.split('\n').slice(3, 6).join('\n'), '0x7efffffff000\nhi\n3');
  t.match(r.stdout, /^ {4}2 {5}1 {5}0 {3}1 R\+ +0 sh\n/m, 'the login shell is pid 2, a child of init');
  t.match(r.stdout, /\nPid:\t3\nPPid:\t2\n/);
  t.match(r.stderr, /Segmentation fault\n/, 'the login shell segfaults at address 0');
  t.notMatch(r.stderr, /Kernel panic/, 'init is not involved'); // absence is the point
  t.match(r.stdout, /^ {4}4 {5}1 {5}0 .* sh\n/m, 'init started a new login shell');
  t.notMatch(r.stdout, /not reached/); // the session ended before it: absence is the point
  t.equal(r.status, 7, 'exit from the login shell ends the session');
});
