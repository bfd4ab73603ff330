/**
 * Returning a pointer or an error in one value (Linux include/linux/err.h). A kernel
 * function that gives an object or fails returns `T | number`, the number being a
 * negative errno; callers test it with IS_ERR() and never with `typeof`.
 *
 *   const mm = mm_alloc();
 *   if (IS_ERR(mm)) return PTR_ERR(mm);
 */

/** An object or a negative errno. */
export type ERR_PTR_OR<T> = T | number;

/** ERR_PTR(err): the error as a return value (err is a negative errno). */
export function ERR_PTR(err: number): number { return err; }

/** PTR_ERR(v): the negative errno an IS_ERR() value carries. */
export function PTR_ERR(v: number): number { return v; }

/** IS_ERR(v): true when `v` is an error rather than the object. */
export function IS_ERR<T>(v: T | number): v is number { return typeof v === 'number'; }

/** IS_ERR_OR_NULL(v). */
export function IS_ERR_OR_NULL<T>(v: T | number | null | undefined): v is number | null | undefined {
  return v === null || v === undefined || typeof v === 'number';
}
