// Reads two V8 heap snapshots and tells what the second holds more of, by kind of object: the
// per-connection breakdown of `bench:memory`. Self sizes only (what each object itself takes),
// so the rows add up to the heap growth without counting anything twice.
import { readFileSync } from 'node:fs'

export interface HeapRow {
  /** V8's node type and name: `object Connection`, `closure onMessage`, `array (object elements)`, … */
  kind: string
  count: number
  bytes: number
}

/** A heap snapshot's node and edge tables, read once for every breakdown of it. */
export interface Graph {
  fields: number
  types: string[]
  edgeTypes: string[]
  nodes: number[]
  edges: number[]
  strings: string[]
  at: { type: number; name: number; id: number; size: number; edgeCount: number }
  edge: { fields: number; type: number; name: number; to: number }
}

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]]; edge_fields: string[]; edge_types: [string[], ...unknown[]] } }
  nodes: number[]
  edges: number[]
  strings: string[]
}

/** Reads a `.heapsnapshot` file (they are large: read each once). */
export function readSnapshot(file: string): Graph {
  const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot
  const f = s.snapshot.meta.node_fields
  const ef = s.snapshot.meta.edge_fields
  return {
    fields: f.length,
    types: s.snapshot.meta.node_types[0],
    edgeTypes: s.snapshot.meta.edge_types[0],
    nodes: s.nodes,
    edges: s.edges,
    strings: s.strings,
    at: { type: f.indexOf('type'), name: f.indexOf('name'), id: f.indexOf('id'), size: f.indexOf('self_size'), edgeCount: f.indexOf('edge_count') },
    edge: { fields: ef.length, type: ef.indexOf('type'), name: ef.indexOf('name_or_index'), to: ef.indexOf('to_node') },
  }
}

/** Total self size and count per kind of heap object. */
function tally(g: Graph): Map<string, { count: number; bytes: number }> {
  const out = new Map<string, { count: number; bytes: number }>()
  for (let i = 0; i < g.nodes.length; i += g.fields) {
    const type = g.types[g.nodes[i + g.at.type]!]!
    // Strings are many and each has its own text: group them by type alone.
    const name = type === 'string' || type === 'concatenated string' || type === 'sliced string' || type === 'number' ? '' : g.strings[g.nodes[i + g.at.name]!]!
    const key = `${type} ${name.length > 60 ? `${name.slice(0, 57)}...` : name}`.trim()
    const row = out.get(key) ?? { count: 0, bytes: 0 }
    row.count++
    row.bytes += g.nodes[i + g.at.size]!
    out.set(key, row)
  }
  return out
}

/** What `after` holds more of than `before`, largest first. */
export function heapDiff(before: Graph, after: Graph): HeapRow[] {
  const a = tally(before)
  const rows: HeapRow[] = []
  for (const [kind, b] of tally(after)) {
    const x = a.get(kind) ?? { count: 0, bytes: 0 }
    if (b.bytes - x.bytes !== 0) rows.push({ kind, count: b.count - x.count, bytes: b.bytes - x.bytes })
  }
  return rows.sort((p, q) => q.bytes - p.bytes)
}

// Containers and V8 internals: an object they hold belongs to whoever holds them.
const GENERIC = new Set(['Object', 'Array', 'Set', 'Map', 'system / Context', 'system / PropertyArray', '(object elements)', '(object properties)', 'WeakMap', 'system / JSArrayBufferData'])

/**
 * The heap growth from `before` to `after`, by owner: each object new in `after` is counted
 * against the nearest retainer (up its first strong retainers) that is a named class or
 * closure — `Connection`, `RoomRegistry`, `closure onMessage` — rather than a Map, Set, array
 * or scope. New objects reached only through old ones (a registry's table growing) count
 * against the old owner.
 */
export function heapOwners(before: Graph, g: Graph): HeapRow[] {
  const old = new Set<number>()
  for (let i = 0; i < before.nodes.length; i += before.fields) old.add(before.nodes[i + before.at.id]!)
  const count = g.nodes.length / g.fields
  const retainer = new Int32Array(count).fill(-1)
  let e = 0
  for (let n = 0; n < count; n++) {
    const edges = g.nodes[n * g.fields + g.at.edgeCount]!
    for (let k = 0; k < edges; k++, e += g.edge.fields) {
      const type = g.edgeTypes[g.edges[e + g.edge.type]!]
      if (type === 'weak' || type === 'shortcut') continue
      const to = g.edges[e + g.edge.to]! / g.fields
      if (retainer[to] === -1) retainer[to] = n
    }
  }
  const label = (n: number) => {
    const type = g.types[g.nodes[n * g.fields + g.at.type]!]!
    const name = g.strings[g.nodes[n * g.fields + g.at.name]!]!
    return { type, name }
  }
  const owned = (n: number): string => {
    for (let step = 0, x = n; step < 12 && x >= 0; step++, x = retainer[x]!) {
      const { type, name } = label(x)
      if ((type === 'object' && !GENERIC.has(name)) || (type === 'closure' && name !== '')) return `${type === 'closure' ? 'closure ' : ''}${name}`
    }
    return '(unattributed)'
  }
  const out = new Map<string, { count: number; bytes: number }>()
  for (let n = 0; n < count; n++) {
    if (old.has(g.nodes[n * g.fields + g.at.id]!)) continue
    const key = owned(n)
    const row = out.get(key) ?? { count: 0, bytes: 0 }
    row.count++
    row.bytes += g.nodes[n * g.fields + g.at.size]!
    out.set(key, row)
  }
  return [...out].map(([kind, r]) => ({ kind, ...r })).sort((p, q) => q.bytes - p.bytes)
}
