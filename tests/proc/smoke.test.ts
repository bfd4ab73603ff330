import t from 'tap';
import { boot, as, uwrite, uread, dec } from './helpers.js';
import { sys_mmap, MAP_PRIVATE, MAP_ANONYMOUS, PROT_READ, PROT_WRITE } from '../../mm/mmap.js';

t.test('smoke', async (t) => {
  const r = boot();
  const a = as(r.init, () => sys_mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS));
  t.equal(a, 0x7f0000000000 - 8192);
  t.ok(uwrite(r.init, a + 10, 'hello').ok);
  const x = uread(r.init, a + 10, 5);
  t.ok(x.ok);
  if (x.ok) t.equal(dec(x.value), 'hello');
  t.same(r.console.filter((l) => /BUG|WARN/.test(l)), []);
});
