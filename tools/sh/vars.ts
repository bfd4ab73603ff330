/**
 * The shell's variables with their attributes (XCU 2.14 export, readonly): a Map of
 * name to value that refuses to change a readonly variable. Assigning or unsetting one
 * throws ReadonlyError, dash's "NAME: is read only", which the runner treats as the
 * variable assignment error of XCU 2.8.1 (the script stops, status 2). Saving and
 * restoring (a subshell's end, a function's locals, a temporary `k=v cmd`) goes around
 * the check with put(): those put back what was there, they assign nothing new.
 */
import { ExpansionError } from './expand.js';

/** An assignment to (or unset of) a readonly variable. */
export class ReadonlyError extends ExpansionError {
  constructor(readonly variable: string) {
    super(`${variable}: is read only`);
  }
}

/** One variable's value (undefined: unset) and attributes. */
export interface VarEntry { readonly value: string | undefined; readonly readonly: boolean; readonly exported: boolean }

/** What a subshell saves and its end restores. */
export interface VarsSnapshot {
  readonly values: ReadonlyMap<string, string>;
  readonly readonlyNames: ReadonlySet<string>;
  readonly exportNames: ReadonlySet<string>;
}

export class ShellVars extends Map<string, string> {
  /** Names marked readonly (`readonly NAME`), set or not. */
  readonly readonlyNames = new Set<string>();
  /** Names marked for export (`export NAME`), set or not. */
  readonly exportNames = new Set<string>();

  override set(name: string, value: string): this {
    if (this.readonlyNames.has(name)) throw new ReadonlyError(name);
    return super.set(name, value);
  }

  override delete(name: string): boolean {
    if (this.readonlyNames.has(name)) throw new ReadonlyError(name);
    return super.delete(name);
  }

  /** Put back a saved value (undefined: unset), whatever the attributes. */
  put(name: string, value: string | undefined): void {
    if (value === undefined) super.delete(name);
    else super.set(name, value);
  }

  /** NAME's value and attributes, for a `local` to put back (entryPut). */
  entry(name: string): VarEntry {
    return { value: this.get(name), readonly: this.readonlyNames.has(name), exported: this.exportNames.has(name) };
  }

  /** Put back what entry() saved: the attributes too, as dash does when a function's local ends. */
  entryPut(name: string, e: VarEntry): void {
    this.put(name, e.value);
    if (e.readonly) this.readonlyNames.add(name); else this.readonlyNames.delete(name);
    if (e.exported) this.exportNames.add(name); else this.exportNames.delete(name);
  }

  snapshot(): VarsSnapshot {
    return { values: new Map(this), readonlyNames: new Set(this.readonlyNames), exportNames: new Set(this.exportNames) };
  }

  restore(s: VarsSnapshot): void {
    super.clear();
    for (const [k, v] of s.values) super.set(k, v);
    this.readonlyNames.clear();
    for (const k of s.readonlyNames) this.readonlyNames.add(k);
    this.exportNames.clear();
    for (const k of s.exportNames) this.exportNames.add(k);
  }
}
