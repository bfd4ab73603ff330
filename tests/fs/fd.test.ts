/**
 * The file layer: open/read/pread/write/lseek/ioctl/close on the current task's table,
 * DAC on device nodes, the drivers' capability checks (CAP_SYS_RAWIO for /dev/mem and
 * /dev/cpu/N/msr), fork copying the table, exit closing it, register_chrdev rules,
 * and per-boot reset of the driver and node tables.
 */
import t from 'tap';
import { bootKernel, SMALL } from '../lib/boot.js';
import { as, dec, fork } from '../lib/task.js';

const boot = (): ReturnType<typeof bootKernel> => bootKernel({ ...SMALL, seed: 1 });
import { O_RDONLY, O_RDWR, O_WRONLY, sys_close, sys_open } from '../../fs/open.js';
import { sys_lseek, sys_pread64, sys_pwrite64, sys_read, sys_write } from '../../fs/read_write.js';
import { sys_ioctl } from '../../fs/ioctl.js';
import { register_chrdev, unregister_chrdev } from '../../fs/char_dev.js';
import { devtmpfs_create_node, devtmpfs_lookup } from '../../fs/devtmpfs.js';
import { files_count, type file } from '../../fs/file.js';
import { do_exit } from '../../kernel/exit.js';
import { do_su } from '../../kernel/sys.js';
import { CAP_FULL_SET, CAP_SYS_RAWIO, CAP_SETUID, CAP_SYS_BOOT, capable } from '../../kernel/capability.js';
import {
  EACCES, EBADF, EBUSY, EEXIST, EFAULT, EINVAL, EIO, EISDIR, ENOENT, ENOTTY, ENXIO, EPERM, ESPIPE,
} from '../../kernel/errno.js';
import { MSR_IA32_TME_ACTIVATE } from '../../arch/x86/include/asm/msr-index.js';

t.test('capabilities: root has the full set, su to a user has none, fork copies', (t) => {
  const r = boot();
  t.equal(r.init.cred.cap_effective, CAP_FULL_SET);
  t.ok(as(r.init, () => capable(CAP_SYS_RAWIO)));
  const child = fork(r.init);
  t.equal(child.cred.cap_effective, CAP_FULL_SET, 'fork copies the effective set');
  t.equal(as(child, () => do_su(1000)), 0);
  t.equal(child.cred.cap_effective, 0n, 'su 1000 clears it');
  t.notOk(as(child, () => capable(CAP_SYS_BOOT)));
  t.equal(as(child, () => do_su(0)), -EPERM, 'no CAP_SETUID: no way back');
  t.notOk(as(child, () => capable(CAP_SETUID)));
  t.end();
});

t.test('/dev/cpu/N/msr: mode first, then CAP_SYS_RAWIO, then the CPU', (t) => {
  const r = boot();
  const init = r.init;
  const ino = devtmpfs_lookup('/dev/cpu/0/msr');
  t.ok(typeof ino !== 'number' && (ino.i_mode & 0o777) === 0o600 && ino.i_uid === 0, 'crw------- root');
  const fd = as(init, () => sys_open('/dev/cpu/0/msr', O_RDONLY));
  t.equal(fd, 0, 'lowest descriptor');
  const buf = new Uint8Array(8);
  t.equal(as(init, () => sys_pread64(fd, buf, MSR_IA32_TME_ACTIVATE)), 8);
  const act = new DataView(buf.buffer).getBigUint64(0, true);
  t.equal(act, r.machine.cpus[0].rdmsr(MSR_IA32_TME_ACTIVATE), 'the MSR value, little-endian');
  t.equal(as(init, () => sys_pread64(fd, new Uint8Array(4), MSR_IA32_TME_ACTIVATE)), -EINVAL, 'count % 8');
  t.equal(as(init, () => sys_pread64(fd, buf, 0x12345678)), -EIO, '#GP on an unknown MSR is -EIO');
  t.equal(as(init, () => sys_write(fd, buf)), -EBADF, 'not open for writing');
  t.equal(as(init, () => sys_ioctl(fd, 0x1234, null)), -ENOTTY);
  t.equal(as(init, () => sys_close(fd)), 0);
  t.equal(as(init, () => sys_close(fd)), -EBADF, 'closed twice');
  t.equal(as(init, () => sys_open('/dev/cpu/9/msr', O_RDONLY)), -ENOENT, 'no node for a CPU that is not there');

  // a root process without CAP_SYS_RAWIO passes the mode and is stopped by msr_open
  const norawio = fork(init);
  norawio.cred.cap_effective &= ~(1n << BigInt(CAP_SYS_RAWIO));
  t.equal(as(norawio, () => sys_open('/dev/cpu/0/msr', O_RDONLY)), -EPERM, 'msr_open: -EPERM');
  t.equal(as(norawio, () => sys_open('/dev/mem', O_RDONLY)), -EPERM, 'open_port: -EPERM');
  // an ordinary user is stopped by the node's mode
  const user = fork(init);
  t.equal(as(user, () => do_su(1000)), 0);
  t.equal(as(user, () => sys_open('/dev/cpu/0/msr', O_RDONLY)), -EACCES);
  t.equal(as(user, () => sys_open('/dev/mem', O_RDONLY)), -EACCES, 'crw-r----- root:kmem');
  user.cred.gid = 15; // in group kmem: the mode lets it read, the capability does not
  t.equal(as(user, () => sys_open('/dev/mem', O_RDONLY)), -EPERM);
  t.equal(as(user, () => sys_open('/dev/mem', O_RDWR)), -EACCES, 'group has no write bit');
  t.end();
});

t.test('/dev/mem: KeyID in the offset, -EFAULT outside memory, lseek', (t) => {
  const r = boot();
  const init = r.init;
  const fd = as(init, () => sys_open('/dev/mem', O_RDWR));
  t.ok(fd >= 0);
  const pa = 0x2000000;
  const msg = new TextEncoder().encode('through KeyID 0');
  t.equal(as(init, () => sys_pwrite64(fd, msg, pa)), msg.length);
  const back = new Uint8Array(msg.length);
  t.equal(as(init, () => sys_pread64(fd, back, pa)), msg.length);
  t.equal(dec(back), 'through KeyID 0');
  t.equal(as(init, () => sys_pread64(fd, back, 0x100000000)), -EFAULT, 'the PCI hole has no direct mapping');
  t.equal(as(init, () => sys_lseek(fd, pa, 0)), pa);
  t.equal(as(init, () => sys_read(fd, back)), msg.length);
  t.equal(dec(back), 'through KeyID 0', 'read at f_pos');
  t.equal(as(init, () => sys_lseek(fd, 0, 1)), pa + msg.length, 'f_pos advanced');
  t.equal(as(init, () => sys_lseek(fd, 0, 2)), -EINVAL, 'memory_lseek has no SEEK_END');
  t.equal(as(init, () => sys_read(fd, 'x' as unknown as Uint8Array)), -EFAULT, 'not a buffer');
  t.end();
});

t.test('fork copies the table, exit closes it; the last close releases', (t) => {
  const r = boot();
  let releases = 0;
  const major = register_chrdev(0, 'probe', {
    open: () => 0,
    release: () => { releases++; return 0; },
    read: (_f: file, buf: Uint8Array) => { buf.fill(7); return buf.length; },
    unlocked_ioctl: (_f: file, cmd: number, arg: unknown) => (cmd === 1 && typeof arg === 'object' && arg ? 42 : -EINVAL),
  });
  t.ok(major >= 234 && major <= 254, `dynamic major ${major}`);
  t.equal(register_chrdev(major, 'again', {}), -EBUSY);
  t.equal(register_chrdev(600, 'big', {}), -EINVAL);
  t.equal(devtmpfs_create_node('/dev/probe', major, 0, 0o666), 0);
  t.equal(devtmpfs_create_node('/dev/probe', major, 0, 0o666), -EEXIST);
  const fd = as(r.init, () => sys_open('/dev/probe', O_RDONLY));
  t.equal(as(r.init, () => sys_ioctl(fd, 1, {})), 42);
  t.equal(as(r.init, () => sys_ioctl(fd, 1, null)), -EINVAL, 'the driver checks the arg');
  const child = fork(r.init);
  t.equal(files_count(child.files), 1, 'inherited');
  t.equal(as(r.init, () => sys_close(fd)), 0);
  t.equal(releases, 0, 'the child still holds the file');
  const b = new Uint8Array(3);
  t.equal(as(child, () => sys_read(fd, b)), 3);
  t.same([...b], [7, 7, 7]);
  do_exit(child, 0);
  t.equal(releases, 1, 'exit closed the last reference');
  t.equal(child.files, null);
  unregister_chrdev(major, 'probe');
  t.equal(as(r.init, () => sys_open('/dev/probe', O_RDONLY)), -ENXIO, 'no driver for the node');
  t.end();
});

t.test('procfs through open: text at open, EISDIR, read-only, bad fds', (t) => {
  const r = boot();
  const init = r.init;
  const fd = as(init, () => sys_open('/proc/version', O_RDONLY));
  const buf = new Uint8Array(6);
  t.equal(as(init, () => sys_read(fd, buf)), 6);
  t.equal(dec(buf), 'Linux ');
  t.equal(as(init, () => sys_pwrite64(fd, buf, 0)), -EBADF);
  t.equal(as(init, () => sys_open('/proc', O_WRONLY)), -EISDIR);
  t.equal(as(init, () => sys_open('/proc/nope', O_RDONLY)), -ENOENT);
  const user = fork(init);
  as(user, () => do_su(1000));
  t.equal(as(user, () => sys_open('/proc/version', O_WRONLY)), -EACCES, '0444');
  t.equal(as(init, () => sys_read(99, buf)), -EBADF);
  t.equal(as(init, () => sys_lseek(fd, -1, 0)), -EINVAL);
  const nul = as(init, () => sys_open('/dev/null', O_RDWR));
  t.equal(as(init, () => sys_write(nul, buf)), 6);
  t.equal(as(init, () => sys_read(nul, buf)), 0);
  t.equal(as(init, () => sys_pread64(nul, buf, -1)), -EINVAL, 'negative offset');
  t.equal(ESPIPE, 29);
  t.end();
});

t.test('each boot starts with only its own drivers and nodes', (t) => {
  boot();
  t.equal(register_chrdev(240, 'leftover', {}), 0);
  t.equal(devtmpfs_create_node('/dev/leftover', 240, 0, 0o600), 0);
  boot();
  t.equal(devtmpfs_lookup('/dev/leftover'), -ENOENT);
  t.equal(register_chrdev(240, 'leftover', {}), 0, 'major free again');
  t.end();
});
