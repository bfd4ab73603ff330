/**
 * The fuzz harness's valid cases (harness.ts): the generator of meaningful operations,
 * the reference model's predictions checked after each, and the teardown that must bring
 * the kernel back to its boot state. One case's state is this closure's.
 */
import type { KernelShellContext } from '../context.js';
import { find_task_by_vpid, for_each_process } from '../../kernel/sched.js';
import { follow_pte } from '../../mm/memory.js';
import { pte_keyid, pte_pfn } from '../../arch/x86/include/asm/pgtable_types.js';
import { nr_free_pages } from '../../mm/page_alloc.js';
import { vfs_read } from '../../fs/proc/generic.js';
import { mktme_keyid_info } from '../../kernel/keys/index.js';
import { mktme_nr_keyids } from '../../arch/x86/mm/mktme.js';
import { Model, PAGE, type KeyKind } from './model.js';
import { quoteWord, type CaseSpec, type Rng } from './cases.js';

const hex = (n: number): string => '0x' + n.toString(16);

/** What a valid case needs of the harness: its machine, dice, ops so far, and how it runs and fails a step. */
export interface CaseEnv {
  ctx: KernelShellContext;
  rng: Rng;
  spec: CaseSpec;
  /** The ops run so far (their count names keys and VMs). */
  ops: readonly string[][];
  /** Whether guest images are loaded (prepareVms): only then a step may create a VM. */
  vms: boolean;
  /** The bytes of type=user keys added so far: no output may show them. */
  userKeys: string[];
  run(cmd: string[]): { out: string; status: number };
  fail(m: string): void;
  failed(): boolean;
}

/**
 * A valid case on a freshly booted machine: the model and the kernel's boot-time state
 * are taken now, before any op. step() runs one generated op and checks its prediction;
 * teardown() undoes everything and compares the kernel with its boot state.
 */
export function validCase(env: CaseEnv): { step(): void; teardown(): void } {
  const { ctx, rng, spec, ops, userKeys, run, fail, failed } = env;
  const vmImages = env.vms;
  let model = new Model(ctx.pid);
  let baselineLogin = ctx.loginPid;
  let baseline = snapshot();
  return { step: valid_step, teardown };

  function cur(): number { return ctx.pid; }

  function valid_step(): void {
    if (cur() === 1 && ctx.loginPid) { run(['switch', String(ctx.loginPid)]); return; }
    const pid = cur();
    const p = model.procs.get(pid);
    if (!p) { fail(`shell runs as ${pid}, which the model does not know`); return; }
    const mapped = [...p.pages.keys()].sort((a, b) => a - b);
    const r = rng.int(1000);
    if (r < 100 || mapped.length === 0) return op_mmap(pid);
    if (r < 380) return op_write(pid, rng.pick(mapped));
    if (r < 600) return op_read(pid, rng.pick(mapped));
    if (r < 640) return op_munmap(pid, rng.pick(mapped));
    if (r < 690) return op_mprotect(pid, rng.pick(mapped));
    if (r < 740) return op_key(pid);
    if (r < 810) return op_encrypt(pid, rng.pick(mapped));
    if (r < 840) return op_fork(pid);
    if (r < 880) return op_switch();
    if (r < 900) return op_exit(pid);
    if (r < 920) return op_su(pid);
    if (r < 940) return op_sync(pid);
    if (r < 945) return op_suspend(pid);
    if (r < 960) return op_revoke();
    if (r < 962) return op_reboot(pid);
    if (r < 980) return op_blk(pid, rng.pick(mapped), rng.pick(mapped));
    if (r < 981) return op_vm(pid);
    return op_proc(pid);
  }

  function op_mmap(pid: number): void {
    const len = (1 + rng.int(4)) * PAGE;
    const prot = rng.pick(['rw', 'rw', 'r', 'rwx']);
    const shared = rng.int(6) === 0;
    const r = run(['mmap', String(len), prot, ...(shared ? ['shared'] : [])]);
    const m = /^0x([0-9a-f]+)\n$/.exec(r.out);
    if (!m) { fail(`mmap printed '${r.out}'`); return; }
    model.map(pid, parseInt(m[1], 16), len, prot, shared);
    check_state();
  }

  function marker(): string {
    let s = 'MKR';
    for (let i = 0; i < 13; i++) s += String.fromCharCode(97 + rng.int(26));
    return s;
  }

  function op_write(pid: number, page: number): void {
    const text = marker();
    const va = page + rng.int(PAGE - text.length);
    const ok = model.write(pid, va, new TextEncoder().encode(text));
    const r = run(['write', hex(va), text]);
    if (ok) { if (r.status !== 0) fail(`write failed: ${r.out}`); check_state(); return; }
    died(pid, r, 'write to a read-only page');
  }

  function op_read(pid: number, page: number): void {
    const len = 1 + rng.int(48);
    const va = page + rng.int(PAGE - len);
    const want = model.read(pid, va, len);
    const r = run(['read', hex(va), String(len), '-x']);
    if (!want) { died(pid, r, 'read of an unreadable page'); return; }
    const got = [...r.out.matchAll(/^[0-9a-f]{16}  ((?:[0-9a-f]{2} +)+)/gm)].flatMap((m) => m[1].trim().split(/ +/)).map((h) => parseInt(h, 16));
    if (got.length !== len) { fail(`read ${hex(va)} ${len}: ${r.out}`); return; }
    for (let i = 0; i < len; i++) {
      if (want[i] !== null && want[i] !== got[i]) { fail(`read ${hex(va)} ${len}: byte ${i} is ${got[i]}, the model says ${want[i]}`); return; }
    }
    check_state();
  }

  function died(pid: number, r: { out: string }, why: string): void {
    if (!/Segmentation fault/.test(r.out)) { fail(`${why}: expected SIGSEGV, got '${r.out}'`); return; }
    model.exit(pid);
    adopt();
    check_state();
  }

  /** The shell now runs as a process the model has not seen: init, or a new login shell. */
  function adopt(): void {
    if (!model.procs.has(cur())) model.procs.set(cur(), { pid: cur(), uid: 0, parent: 1, pages: new Map() });
  }

  function op_munmap(pid: number, page: number): void {
    const r = run(['munmap', hex(page), String(PAGE)]);
    if (r.status !== 0) fail(`munmap: ${r.out}`);
    model.unmap(pid, page, PAGE);
    check_state();
  }

  function op_mprotect(pid: number, page: number): void {
    const prot = rng.pick(['r', 'rw', 'none', 'rwx']);
    const r = run(['mprotect', hex(page), String(PAGE), prot]);
    if (r.status !== 0) { fail(`mprotect: ${r.out}`); return; }
    model.proc(pid).pages.get(page)!.prot = prot === 'none' ? '' : prot;
    check_state();
  }

  function op_key(pid: number): void {
    const kind: KeyKind = rng.pick(['cpu', 'cpu', 'user', 'no-encrypt']);
    let opts = kind === 'cpu' ? 'type=cpu algorithm=aes-xts-128' : 'type=no-encrypt';
    if (kind === 'user') {
      let k = '';
      for (let i = 0; i < 32; i++) k += '0123456789abcdef'[rng.int(16)];
      userKeys.push(k);
      opts = `type=user algorithm=aes-xts-128 key=${k} tweak=${k.split('').reverse().join('')}`;
    }
    const r = run(['keyctl', 'add', 'mktme', `k${ops.length}`, opts, '@u']);
    const m = /^(\d+)\n$/.exec(r.out);
    const uid = model.proc(pid).uid;
    if (m) {
      if (uid !== 0 || !spec.config.tme) { fail(`keyctl add succeeded for uid ${uid} / tme=${spec.config.tme}`); return; }
      model.keys.set(Number(m[1]), { serial: Number(m[1]), uid, kind, revoked: false });
    } else if (!/^add_key: (Permission denied|Required key not available|No such device|Disk quota exceeded|Invalid argument)\n$/.test(r.out)) {
      fail(`keyctl add: '${r.out}'`);
    } else if (uid === 0 && spec.config.tme && !/Required key|quota/.test(r.out)) {
      fail(`keyctl add as root: '${r.out}'`);
    }
    check_state();
  }

  function op_revoke(): void {
    const live = [...model.keys.values()].filter((k) => !k.revoked);
    if (!live.length) return;
    const k = rng.pick(live);
    const r = run(['keyctl', 'revoke', String(k.serial)]);
    if (r.status === 0) k.revoked = true;
    else if (!/Permission denied|Required key not available|Key has been revoked/.test(r.out)) fail(`keyctl revoke: ${r.out}`);
  }

  function op_encrypt(pid: number, page: number): void {
    const p = model.proc(pid);
    const keys = [...model.keys.values()];
    const key = keys.length && rng.int(5) ? rng.pick(keys) : null;
    const serial = key ? key.serial : -1;
    const prot = rng.pick(['rw', 'r', 'rw']);
    const pg = p.pages.get(page)!;
    if (pg.shared) return; // shmem encryption (the object's KeyID) is left to the malformed cases
    const r = run(['encrypt_mprotect', hex(page), String(PAGE), prot, String(serial)]);
    let want: RegExp | null = null; // sys_encrypt_mprotect looks the key up first, then the VMAs
    if (key && key.revoked) want = /Key has been revoked|Required key not available/;
    else if (key && key.uid !== p.uid) want = /Permission denied/;
    else if (pg.shared) want = /Invalid argument/;
    if (want) { if (!want.test(r.out)) fail(`encrypt_mprotect: expected ${want}, got '${r.out}'`); return; }
    if (r.status !== 0) { fail(`encrypt_mprotect: '${r.out}'`); return; }
    model.encrypt(pid, page, PAGE, prot, key ? key.serial : 0);
    check_state();
  }

  function op_fork(pid: number): void {
    const r = run(['fork']);
    const m = /^(\d+)\n$/.exec(r.out);
    if (!m) { fail(`fork: '${r.out}'`); return; }
    model.fork(pid, Number(m[1]), model.proc(pid).uid);
    check_state();
  }

  function op_switch(): void {
    const pid = rng.pick([...model.procs.keys()]);
    const r = run(['switch', String(pid)]);
    if (r.status !== 0) fail(`switch ${pid}: '${r.out}'`);
    if (cur() !== pid) fail(`switch ${pid}: the shell runs as ${cur()}`);
    check_state();
  }

  function op_exit(pid: number): void {
    if (pid === ctx.loginPid || pid === 1) return;
    const parent = model.proc(pid).parent;
    run(['exit']);
    model.exit(pid);
    const expect = parent === 1 && ctx.loginPid !== undefined && model.procs.has(ctx.loginPid) ? ctx.loginPid : parent;
    if (cur() !== expect) fail(`exit: the shell runs as ${cur()}, not ${expect}`);
    adopt();
    check_state();
  }

  function op_su(pid: number): void {
    const uid = model.proc(pid).uid;
    const r = run(['su', '1000']);
    if (uid !== 0) { if (!/Authentication failure/.test(r.out)) fail(`su as ${uid}: '${r.out}'`); return; }
    if (r.status !== 0) { fail(`su: '${r.out}'`); return; }
    model.fork(pid, cur(), 1000);
    check_state();
  }

  function op_sync(pid: number): void {
    run(['sync']);
    const tsk = find_task_by_vpid(pid);
    if (!tsk?.mm) return;
    let checked = 0;
    for (const [va, pg] of model.proc(pid).pages) {
      if (!pg.present || !pg.cell.data || !pg.cell.known || checked >= 4) continue;
      const text = new TextDecoder('latin1').decode(pg.cell.data);
      const mk = /MKR[a-z]{13}/.exec(text);
      if (!mk) continue;
      const pte = follow_pte(tsk.mm, va);
      if (!pte) { fail(`sync: no PTE for present page ${hex(va)}`); return; }
      checked++;
      const key = model.keys.get(pg.key);
      const plain = key ? key.kind === 'no-encrypt' : spec.config.kid0Plain || (spec.config.name === 'exclude' && pte_pfn(pte) * PAGE < 0x200000);
      const found = ctx.machine!.probe.scan(pte_pfn(pte) * PAGE, PAGE, new TextEncoder().encode(mk[0]));
      if (found !== plain) fail(`sync: marker ${mk[0]} at ${hex(va)} (KeyID ${pte_keyid(pte)}) ${found ? 'is' : 'is not'} in DRAM in the clear`);
    }
  }

  function op_suspend(pid: number): void {
    const uid = model.proc(pid).uid;
    const r = run(['suspend']);
    if (uid !== 0) { if (!/Permission denied/.test(r.out)) fail(`suspend as ${uid}: '${r.out}'`); return; }
    const ok = !spec.config.tme || spec.config.savekey;
    if (ok && r.status !== 0 && !/Required key not available/.test(r.out)) { fail(`suspend: '${r.out}'`); return; }
    if (!ok && !/Operation not supported/.test(r.out)) { fail(`suspend should be refused: '${r.out}'`); return; }
    if (ok) model.lose_keys(spec.config.storekeys ? ['cpu'] : ['cpu', 'user']);
    check_state();
  }

  function op_reboot(pid: number): void {
    if (model.proc(pid).uid !== 0) return;
    run(['reboot']);
    model = new Model(cur());
    baselineLogin = ctx.loginPid;
    baseline = snapshot();
    check_state();
  }

  /** `blk write` from one mapped page, `blk read` of the same sectors into another. */
  function op_blk(pid: number, src: number, dst: number): void {
    const p = model.proc(pid);
    const off = 512 * rng.int(8);
    const len = 512 * (1 + rng.int(Math.min(2, 8 - off / 512)));
    const sector = rng.int(32768 - len / 512);
    const w = run(['blk', 'write', String(sector), hex(src + off), String(len)]);
    if (p.uid !== 0) { if (!/Permission denied/.test(w.out)) fail(`blk write as ${p.uid}: '${w.out}'`); return; }
    const want = model.read(pid, src + off, len); // the device reads the pages (pinned, faulted in)
    if (!want) { if (!/Bad address/.test(w.out)) fail(`blk write from an unreadable page: '${w.out}'`); check_state(); return; }
    if (w.status !== 0) { fail(`blk write: '${w.out}'`); return; }
    const dpg = p.pages.get(dst)!;
    const r = run(['blk', 'read', String(sector), String(len), hex(dst + off)]);
    if (!dpg.prot.includes('w')) { if (!/Bad address/.test(r.out)) fail(`blk read into a read-only page: '${r.out}'`); check_state(); return; }
    if (r.status !== 0) { fail(`blk read: '${r.out}'`); return; }
    // bytes the model cannot predict (lost in S3) make the rest of the page unknown
    if (want.some((b) => b === null)) { model.write(pid, dst + off, new Uint8Array(len)); dpg.cell.known = false; check_state(); return; }
    model.write(pid, dst + off, Uint8Array.from(want as number[]));
    const back = run(['read', hex(dst + off), String(len), '-x']);
    const got = [...back.out.matchAll(/^[0-9a-f]{16}  ((?:[0-9a-f]{2} +)+)/gm)].flatMap((m) => m[1].trim().split(/ +/)).map((h) => parseInt(h, 16));
    for (let i = 0; i < len; i++) {
      if (got[i] !== want[i]) { fail(`blk: byte ${i} read back from sector ${sector} is ${got[i]}, ${want[i]} was written`); return; }
    }
    check_state();
    if (rng.int(4) === 0) op_sync(pid); // the DMA'd copy of each marker is ciphertext in DRAM too
  }

  /**
   * A guest (rare: a VM costs tens of ms): created, a marker written and read in a
   * process of its own, destroyed; then the host's free pages and KeyID page counts are
   * what they were before.
   */
  function op_vm(pid: number): void {
    if (!vmImages) return;
    const p = model.proc(pid);
    const keys = [...model.keys.values()].filter((k) => !k.revoked && k.uid === p.uid);
    const key = keys.length && rng.int(3) ? rng.pick(keys) : null;
    const name = `g${ops.length}`;
    const before = `free ${nr_free_pages()}\n${String(vfs_read('/sys/kernel/mm/mktme/keyid_pages'))}`;
    const c = run(['vm', 'create', name, '--mem', '16M', ...(key ? ['--key', String(key.serial)] : [])]);
    if (p.uid !== 0) { if (!/Permission denied/.test(c.out)) fail(`vm create as ${p.uid}: '${c.out}'`); return; }
    if (c.status !== 0) { fail(`vm create: '${c.out}'`); return; }
    const text = marker();
    const e = run(['vm', 'exec', name, `mmap 4K; write 0x7efffffff000 ${text}; read 0x7efffffff000 ${text.length}`]);
    if (e.out !== `0x7efffffff000\n${text}\n` || e.status !== 0) fail(`vm exec: status ${e.status}, '${e.out}'`);
    const d = run(['vm', 'destroy', name]);
    if (d.status !== 0) { fail(`vm destroy: '${d.out}'`); return; }
    const after = `free ${nr_free_pages()}\n${String(vfs_read('/sys/kernel/mm/mktme/keyid_pages'))}`;
    if (after !== before) fail(`vm destroy: the host differs from before create:\n--- before\n${before}--- after\n${after}`);
    check_state();
  }

  function op_proc(pid: number): void {
    const f = rng.pick(['/proc/meminfo', '/proc/keys', `/proc/${pid}/maps`, `/proc/${pid}/smaps`, '/proc/iomem', '/sys/kernel/mm/mktme/keyid_pages']);
    const r = run(['cat', f]);
    if (r.status !== 0) fail(`cat ${f}: '${r.out}'`);
  }

  // --- state checks ------------------------------------------------------------------

  /** RSS and the mapped pages (with their protection) of the current process. */
  function check_state(): void {
    if (failed()) return;
    const pid = cur();
    const p = model.procs.get(pid);
    const tsk = find_task_by_vpid(pid);
    if (!p || !tsk || !tsk.mm) { fail(`shell runs as ${pid}: model ${!!p}, kernel ${!!tsk?.mm}`); return; }
    const kpages = new Map<number, string>();
    for (const v of tsk.mm.mmap) {
      const prot = (v.vm_flags & 1 ? 'r' : '') + (v.vm_flags & 2 ? 'w' : '') + (v.vm_flags & 4 ? 'x' : '');
      for (let a = v.vm_start; a < v.vm_end; a += PAGE) kpages.set(a, prot);
    }
    if (kpages.size !== p.pages.size) { fail(`pid ${pid}: ${kpages.size} pages mapped, the model has ${p.pages.size}`); return; }
    for (const [a, pg] of p.pages) {
      if (kpages.get(a) !== pg.prot) { fail(`pid ${pid}: ${hex(a)} is '${kpages.get(a)}', the model says '${pg.prot}'`); return; }
    }
    const rss = tsk.mm.rss_anon + tsk.mm.rss_shmem;
    if (rss !== model.rss(pid)) fail(`pid ${pid}: RSS ${rss} pages, the model says ${model.rss(pid)}`);
  }

  /**
   * The kernel's memory and KeyID state. buddyinfo is only comparable while the same
   * login shell lives: a respawned one has its page-table pages elsewhere.
   */
  function snapshot(): string {
    const ids: string[] = [];
    for (let k = 1; k <= mktme_nr_keyids(); k++) {
      const i = mktme_keyid_info(k);
      ids.push(typeof i === 'number' ? String(i) : `${i.state}/${i.refs}`);
    }
    const buddy = ctx.loginPid === baselineLogin ? String(vfs_read('/proc/buddyinfo')) : '(login shell respawned)\n';
    return `free ${nr_free_pages()}\n${buddy}${String(vfs_read('/sys/kernel/mm/mktme/keyid_pages'))}keyids ${ids.join(' ')}`;
  }

  /** Exit every process but the login shell, unmap its memory, drop every key. */
  function teardown(): void {
    for (const t of for_each_process()) {
      if (t.pid === 1 || t.pid === ctx.loginPid || t.exit_state) continue;
      run(['switch', String(t.pid)]);
      run(['exit']);
    }
    if (cur() !== ctx.loginPid) run(['switch', String(ctx.loginPid)]);
    if (cur() !== ctx.loginPid) { fail(`teardown: shell runs as ${cur()}`); return; }
    const login = find_task_by_vpid(cur());
    for (const v of [...(login?.mm?.mmap ?? [])]) run(['munmap', hex(v.vm_start), String(v.vm_end - v.vm_start)]);
    run(['keyctl', 'clear', '@u']);
    run(['su', '1000']); run(['keyctl', 'clear', '@u']); run(['exit']);
    check_teardown_if_clean();
  }

  function check_teardown_if_clean(): void {
    if (failed()) return;
    const now = snapshot();
    const base = ctx.loginPid === baselineLogin ? baseline : baseline.replace(/^Node .*\n/gm, '').replace(/^(free \d+\n)/, '$1(login shell respawned)\n');
    if (now !== base) fail(`after teardown the kernel differs from boot:\n--- boot\n${baseline}\n--- now\n${now}`);
  }
}
