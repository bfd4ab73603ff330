/**
 * The architecture's one hard line: kernel code reaches the machine only through the
 * CPU's instruction surface (arch/x86/hw/isa.ts) and what the firmware hands over.
 * Every import in a kernel directory that resolves into arch/x86/hw must be isa.ts.
 * And the machine knows nothing of the kernel: nothing in arch/x86/hw imports out of it.
 */
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { importsOf } from '../lib/imports.js';
// The one list of kernel directories, shared with the guest-image loader.
import { KERNEL_DIRS, MACHINE_DIR } from '../../tools/vmm/layout.js';
import { REPO_ROOT } from '../lib/paths.js';

const ROOT = REPO_ROOT;
const HW = path.join(ROOT, MACHINE_DIR);

function tsFiles(dir: string): string[] {
  const abs = path.join(ROOT, dir);
  if (!fs.existsSync(abs)) return [];
  return fs.readdirSync(abs, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(abs, f));
}

function resolve(file: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  return path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts');
}

/** Imports of `files` whose resolved target `forbidden` rejects, as "file imports spec". */
function offenders(files: string[], forbidden: (target: string) => boolean): string[] {
  const out: string[] = [];
  for (const f of files) {
    for (const spec of importsOf(f)) {
      const target = resolve(f, spec);
      if (target && forbidden(target)) out.push(`${path.relative(ROOT, f)} imports ${spec}`);
    }
  }
  return out;
}

/** Kernel code may reach arch/x86/hw only through isa.ts. */
const kernelRule = (target: string): boolean => target.startsWith(HW + path.sep) && path.basename(target) !== 'isa.ts';
/** The machine may import only itself. */
const machineRule = (target: string): boolean => !target.startsWith(HW + path.sep);

t.test('kernel code imports only isa.ts from arch/x86/hw', (t) => {
  const files = KERNEL_DIRS.flatMap(tsFiles);
  t.ok(files.length > 0, 'there is kernel code to check');
  t.same(offenders(files, kernelRule), [], 'no reach around the instruction surface');
  t.end();
});

t.test('the machine imports nothing from the kernel or the tools', (t) => {
  const files = tsFiles(MACHINE_DIR);
  t.ok(files.length > 0);
  t.same(offenders(files, machineRule), []);
  t.end();
});

t.test('the checker itself sees violations of both rules', (t) => {
  const tmp = path.join(ROOT, 'tests/arch/.fixture-violation.ts');
  fs.writeFileSync(tmp, "import { Cpu } from '../../arch/x86/hw/cpu.js';\nimport type { X } from '../../arch/x86/hw/isa.js';\n" +
    "const m = await import('./y.js');\n");
  try {
    t.same(importsOf(tmp), ['../../arch/x86/hw/cpu.js', '../../arch/x86/hw/isa.js', './y.js']);
    t.same(offenders([tmp], kernelRule), ['tests/arch/.fixture-violation.ts imports ../../arch/x86/hw/cpu.js'],
      'cpu.js is flagged, isa.js is not');
    t.same(offenders([tmp], machineRule), ['tests/arch/.fixture-violation.ts imports ./y.js']);
  } finally {
    fs.unlinkSync(tmp);
  }
  t.end();
});
