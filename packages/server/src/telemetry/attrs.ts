import type { Attributes } from '@opentelemetry/api'
import { CloseCode } from '@rt/contract'

/** Attribute sets made once per distinct key pair and reused: recording allocates nothing. */
export class AttrCache {
  private readonly sets = new Map<string, Map<string, Attributes>>()

  constructor(private readonly make: (a: string, b: string) => Attributes) {}

  get(a: string, b: string): Attributes {
    let inner = this.sets.get(a)
    if (!inner) this.sets.set(a, (inner = new Map()))
    let set = inner.get(b)
    if (!set) inner.set(b, (set = this.make(a, b)))
    return set
  }
}

/**
 * Counts per attribute set, kept here and reported by an observable counter at collection:
 * the SDK hashes the attributes of every synchronous `add`, which would cost more than the event.
 */
export class Tally {
  private readonly cells = new Map<string, Map<string, { attributes: Attributes; n: number }>>()

  constructor(private readonly make: (a: string, b: string) => Attributes) {}

  add(a: string, b: string, n = 1): void {
    let inner = this.cells.get(a)
    if (!inner) this.cells.set(a, (inner = new Map()))
    const cell = inner.get(b)
    if (cell) cell.n += n
    else inner.set(b, { attributes: this.make(a, b), n })
  }

  report(result: { observe(n: number, attributes: Attributes): void }): void {
    for (const inner of this.cells.values()) for (const c of inner.values()) result.observe(c.n, c.attributes)
  }
}

const KNOWN_CLOSE = new Set<number>(Object.values(CloseCode))

/** A close code as an attribute: a client picks its own code, so codes @rt does not define count as 0. */
export const closeCodeAttr = (code: number): number => (KNOWN_CLOSE.has(code) || (code >= 1000 && code <= 1015) ? code : 0)

/** Kinds of bus subject, by their first letter (see cluster/subjects.ts). */
export const BUS_KINDS = ['room', 'topic', 'node', 'cluster', 'other'] as const

export function busKind(subject: string): number {
  switch (subject.charCodeAt(0)) {
    case 114: // r
      return 0
    case 116: // t
      return 1
    case 110: // n
      return 2
    case 99: // c
      return 3
    default:
      return 4
  }
}
