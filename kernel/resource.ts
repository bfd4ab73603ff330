/**
 * The iomem resource tree (Linux kernel/resource.c): who claims which range of the
 * physical address space. Firmware's e820 ranges form the top level (fs/proc/iomem.ts
 * adds them as it prints); drivers claim what they map here, as Linux's
 * request_resource / insert_resource do: the PCI host bridge its window, ECAM its
 * configuration space, each device its BARs, the IOMMU its registers. /proc/iomem
 * prints the tree.
 *
 * Module state of this kernel instance, emptied at every boot by resource_init().
 */
import { EBUSY, EINVAL } from './errno.js';

export interface resource {
  readonly name: string;
  /** First and last byte (inclusive), as struct resource holds them. */
  readonly start: number;
  readonly end: number;
  readonly children: resource[];
}

let iomem_top: resource[] = [];

/** Forget every claim (start_kernel, before setup_arch). */
export function resource_init(): void { iomem_top = []; }

function overlaps(a: resource, start: number, end: number): boolean { return a.start <= end && start <= a.end; }

/**
 * insert_resource(): claim [start, end] under the deepest claim that contains it. A
 * range that partly overlaps a sibling is -EBUSY, an empty or inverted one -EINVAL.
 * Existing claims the new one fully contains become its children, as Linux's
 * insert_resource adopts them.
 */
export function insert_resource(name: string, start: number, end: number): number {
  return insert_into(iomem_top, name, start, end);
}

/** insert_resource() into the tree whose top level is `top`. */
export function insert_into(top: resource[], name: string, start: number, end: number): number {
  if (!(end >= start) || start < 0) return -EINVAL;
  let level = top;
  for (;;) {
    const parent = level.find((r) => r.start <= start && end <= r.end && !(r.start === start && r.end === end));
    if (!parent) break;
    level = parent.children;
  }
  const inside = level.filter((r) => start <= r.start && r.end <= end);
  if (level.some((r) => overlaps(r, start, end) && !inside.includes(r))) return -EBUSY;
  const node: resource = { name, start, end, children: inside.sort((a, b) => a.start - b.start) };
  const rest = level.filter((r) => !inside.includes(r));
  rest.push(node);
  rest.sort((a, b) => a.start - b.start);
  level.splice(0, level.length, ...rest);
  return 0;
}

/** The top-level claims, by address (a snapshot: callers must not change it). */
export function iomem_resources(): readonly resource[] { return iomem_top; }
