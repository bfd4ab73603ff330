/**
 * The privilege model from the shell, as an ordinary user meets it: every
 * privileged interface refuses uid 1000 with Linux's errno in the tool's words and
 * changes nothing, per-reader /proc views, and the physical attacker's probe, which is
 * outside the OS, still works. Root still can.
 */
import t from 'tap';
import { runShell } from '../../tools/shell.js';

const Q = ['--append', 'quiet'];

t.test('uid 1000 is stopped at each privileged interface, in the tools\' words', async (t) => {
  const r = await runShell([...Q, '--bios', 'lock=off,savekey=on', '-c', [
    'mmap 4K', "write 0x7efffffff000 'root data'",
    'su 1000',
    'devmem 0x100000 16', 'devmem -w 0x100000 00',
    'rdmsr 0x982', 'wrmsr 0x982 0x3',
    'pconfig 1 no-encrypt aes-xts-128',
    'reboot', 'poweroff', 'suspend',
    'cat /proc/2/maps', 'cat /proc/2/smaps',
    'exit', 'rdmsr 0x982', 'echo still-root',
  ].join('; ')]);
  t.equal(r.stderr, [
    "devmem: can't open '/dev/mem': Permission denied",
    "devmem: can't open '/dev/mem': Permission denied",
    'rdmsr: open: Permission denied',
    'wrmsr: open: Permission denied',
    'pconfig: Operation not permitted',
    'reboot: Operation not permitted',
    'poweroff: Operation not permitted',
    'suspend: /sys/power/state: Permission denied',
    'cat: /proc/2/maps: Permission denied',
    'cat: /proc/2/smaps: Permission denied',
    '',
  ].join('\n'));
  const out = r.stdout.split('\n');
  t.equal(out[0], '0x7efffffff000');
  t.equal(out[1], '0', 'TME still off: the user could not activate it (lock=off)');
  t.equal(out[2], 'still-root', 'no reboot, no power-off, no suspend happened');
  t.end();
});

t.test('/proc/keys with the reader\'s credentials', async (t) => {
  const r = await runShell([...Q, '-c',
    "keyctl add user rootsecret x @u; su 1000; keyctl add user usr1000 y @u; cat /proc/keys; exit; cat /proc/keys"]);
  // uid 1000's listing comes first; root's starts with the .user_reg keyring line
  const user_part = r.stdout.slice(0, r.stdout.indexOf('.user_reg'));
  t.match(user_part, /usr1000: 1/, 'uid 1000 sees its own key');
  t.match(user_part, /_uid\.1000/, 'and its user keyring');
  t.notMatch(user_part, /rootsecret|_uid\.0/, 'and none of root\'s'); // absence is the point
  t.match(r.stdout.slice(r.stdout.indexOf('.user_reg')), /rootsecret/, 'root sees its own afterwards');
  t.equal(r.stderr, '');
  t.end();
});

t.test('/proc/iomem and pagemap masked without CAP_SYS_ADMIN', async (t) => {
  const r = await runShell([...Q, '-c',
    "su 1000; mmap 4K; write 0x7efffffff000 x; cat /proc/iomem; pagemap 0x7efffffff000; exit; cat /proc/iomem"]);
  const lines = r.stdout.trimEnd().split('\n');
  const iomem_user = lines.slice(1, lines.findIndex((l) => l.startsWith('0x7efffffff000 pfn')));
  t.ok(iomem_user.length > 3);
  t.ok(iomem_user.every((l) => /^ *00000000-00000000 : /.test(l)), 'every address zeroed, names kept');
  t.match(r.stdout, /^0x7efffffff000 pfn=0x0 keyid=0 flags=present,rw,user,accessed,dirty,nx$/m);
  t.match(r.stdout, /^00100000-07ffffff : System RAM$/m, 'root sees the addresses');
  t.end();
});

t.test('the physical attacker is outside the OS: dimm and cache work for anyone', async (t) => {
  const r = await runShell([...Q, '-c', 'su 1000; dimm read 0x100000 16; cache 0x100000; help']);
  t.match(r.stdout, /^0000000000100000 /m);
  t.match(r.stdout, /line 0x100000 is not cached/);
  t.match(r.stdout, /^  dimm +physical attacker, outside the OS: /m);
  t.match(r.stdout, /^  cache +physical attacker, outside the OS: /m);
  t.equal(r.stderr, '');
  t.end();
});

t.test('root keeps every right', async (t) => {
  const r = await runShell([...Q, '-c', 'rdmsr 0x981; devmem 0x100000 16; pconfig 1 no-encrypt aes-xts-128; cat /proc/2/maps']);
  t.equal(r.stderr, '');
  t.match(r.stdout, /^package 1: 0 \(KeyID was successfully programmed\)$/m);
  t.end();
});
