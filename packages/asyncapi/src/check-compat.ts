import { indexContract, type AnyContract, type RoleView, type Schema, type TopicDef } from '@rt/contract'
import { compareSchemas, type SchemaDiff } from './compare-schemas.js'
import { acceptsUndefined } from './json-schema.js'

/** How a change affects clients built against the old contract. */
export type CompatSeverity = 'breaking' | 'possibly-breaking' | 'safe'

/** What changed. */
export type CompatKind =
  | 'role-removed' | 'role-added'
  | 'procedure-removed' | 'procedure-added' | 'input-narrowed' | 'input-widened' | 'output-widened' | 'output-narrowed'
  | 'event-removed' | 'event-added' | 'topic-removed' | 'topic-added' | 'kind-changed'
  | 'payload-widened' | 'payload-narrowed'
  | 'params-narrowed' | 'params-widened' | 'params-added' | 'params-removed'
  | 'history-removed' | 'history-added' | 'history-reduced'

/** One change between two contracts. */
export interface CompatChange {
  severity: CompatSeverity
  kind: CompatKind
  /** The procedure, event or topic; for a role change, the role. */
  name: string
  /** The roles whose clients it affects. */
  roles: string[]
  message: string
  /** Where in the value, and what: one line per schema difference. */
  details: string[]
}

/** Every change from one contract to the next, most severe first. */
export interface CompatReport {
  changes: CompatChange[]
  breaking: number
  possiblyBreaking: number
}

type Add = (c: Omit<CompatChange, 'roles' | 'details'> & { details?: string[] }) => void

/** Compares two versions of a contract from the side of deployed clients: what a client built against `older` meets when the server runs `newer`. */
export function checkCompat(older: AnyContract, newer: AnyContract): CompatReport {
  const merged = new Map<string, CompatChange>()
  const a = indexContract(older).roles
  const b = indexContract(newer).roles
  const record = (role: string): Add => (c) => {
    const change: CompatChange = { ...c, roles: [role], details: c.details ?? [] }
    const key = JSON.stringify([c.kind, c.name, c.message, change.details])
    const seen = merged.get(key)
    if (seen) seen.roles.push(role)
    else merged.set(key, change)
  }
  for (const [role, view] of a) {
    const next = b.get(role)
    if (next) compareRole(view, next, record(role))
    else record(role)({ severity: 'breaking', kind: 'role-removed', name: role, message: `role "${role}" removed: its clients are refused at hello (4001)` })
  }
  for (const role of b.keys()) if (!a.has(role)) record(role)({ severity: 'safe', kind: 'role-added', name: role, message: `role "${role}" added` })
  const order: CompatSeverity[] = ['breaking', 'possibly-breaking', 'safe']
  const changes = [...merged.values()].sort((x, y) => order.indexOf(x.severity) - order.indexOf(y.severity))
  return {
    changes,
    breaking: changes.filter((c) => c.severity === 'breaking').length,
    possiblyBreaking: changes.filter((c) => c.severity === 'possibly-breaking').length,
  }
}

function compareRole(a: RoleView, b: RoleView, add: Add): void {
  for (const [name, p] of a.procedures) {
    const q = b.procedures.get(name)
    if (!q) {
      const renamed = [...b.procedures].find(([n, x]) => !a.procedures.has(n) && same(p.input, x.input) && same(p.output, x.output))?.[0]
      add({ severity: 'breaking', kind: 'procedure-removed', name, message: `procedure "${name}" removed: calls fail with NOT_FOUND${hint(renamed)}` })
      continue
    }
    // Old clients send what the old input accepts, and parse results with the old output.
    diff(add, name, compareSchemas(p.input, q.input), ['input-narrowed', 'input-widened'], `procedure "${name}": input narrowed: calls of old clients may be refused with BAD_REQUEST`, `procedure "${name}": input widened`)
    diff(add, name, compareSchemas(q.output, p.output), ['output-widened', 'output-narrowed'], `procedure "${name}": output widened: old clients may reject results`, `procedure "${name}": output narrowed`)
  }
  for (const name of b.procedures.keys()) if (!a.procedures.has(name)) add({ severity: 'safe', kind: 'procedure-added', name, message: `procedure "${name}" added` })

  for (const [name, e] of a.events) {
    const f = b.events.get(name)
    if (!f) removed(add, name, 'event', b.topics.has(name), [...b.events].find(([n, x]) => !a.events.has(n) && same(e.payload, x.payload))?.[0])
    else diff(add, name, compareSchemas(f.payload, e.payload), ['payload-widened', 'payload-narrowed'], `event "${name}": payload widened: old clients may reject it`, `event "${name}": payload narrowed`)
  }
  for (const [name, t] of a.topics) {
    const u = b.topics.get(name)
    if (!u) removed(add, name, 'topic', b.events.has(name), [...b.topics].find(([n, x]) => !a.topics.has(n) && same(t.payload, x.payload))?.[0])
    else compareTopic(name, t, u, add)
  }
  for (const name of b.events.keys()) if (!a.events.has(name) && !a.topics.has(name)) add({ severity: 'safe', kind: 'event-added', name, message: `event "${name}" added` })
  for (const name of b.topics.keys()) if (!a.topics.has(name) && !a.events.has(name)) add({ severity: 'safe', kind: 'topic-added', name, message: `topic "${name}" added` })
}

function compareTopic(name: string, t: TopicDef, u: TopicDef, add: Add): void {
  diff(add, name, compareSchemas(u.payload, t.payload), ['payload-widened', 'payload-narrowed'], `topic "${name}": payload widened: old clients may reject publications`, `topic "${name}": payload narrowed`)
  if (t.params && u.params) {
    diff(add, name, compareSchemas(t.params, u.params), ['params-narrowed', 'params-widened'], `topic "${name}": params narrowed: subscriptions of old clients may be refused with BAD_REQUEST`, `topic "${name}": params widened`)
  } else if (t.params && !u.params) {
    add({ severity: 'breaking', kind: 'params-removed', name, message: `topic "${name}": params removed: subscriptions of old clients (which send params) are refused with BAD_REQUEST` })
  } else if (!t.params && u.params) {
    const optional = acceptsUndefined(u.params)
    add({ severity: optional ? 'safe' : 'breaking', kind: 'params-added', name, message: `topic "${name}": params added${optional ? ' (optional)' : ': subscriptions of old clients (which send none) are refused with BAD_REQUEST'}` })
  }
  if (t.history && !u.history) {
    add({ severity: 'breaking', kind: 'history-removed', name, message: `topic "${name}": history removed: old clients can no longer recover what they missed` })
  } else if (!t.history && u.history) {
    add({ severity: 'safe', kind: 'history-added', name, message: `topic "${name}": history added` })
  } else if (t.history && u.history && (u.history.size < t.history.size || (u.history.ttlMs ?? Infinity) < (t.history.ttlMs ?? Infinity))) {
    add({ severity: 'safe', kind: 'history-reduced', name, message: `topic "${name}": history reduced (size ${t.history.size} → ${u.history.size}, ttlMs ${t.history.ttlMs ?? '-'} → ${u.history.ttlMs ?? '-'}): a client away longer gets recovered: false` })
  }
}

function removed(add: Add, name: string, what: 'event' | 'topic', other: boolean, renamed: string | undefined): void {
  if (other) {
    add({ severity: 'breaking', kind: 'kind-changed', name, message: `"${name}" is now ${what === 'event' ? 'a topic' : 'an event'} (was ${what === 'event' ? 'an event' : 'a topic'})` })
  } else if (what === 'event') {
    add({ severity: 'breaking', kind: 'event-removed', name, message: `event "${name}" removed: old clients wait for it in vain${hint(renamed)}` })
  } else {
    add({ severity: 'breaking', kind: 'topic-removed', name, message: `topic "${name}" removed: subscriptions fail with NOT_FOUND${hint(renamed)}` })
  }
}

const hint = (renamed: string | undefined) => (renamed ? ` (renamed to "${renamed}"?)` : '')

/** Reports a schema difference: `kinds[0]` when the old side no longer fits the new one, `kinds[1]` (safe) when it only grew. */
function diff(add: Add, name: string, d: SchemaDiff, kinds: [CompatKind, CompatKind], breakMessage: string, safeMessage: string): void {
  if (d.problems.length > 0) {
    add({ severity: d.problems.some((p) => p.verdict === 'no') ? 'breaking' : 'possibly-breaking', kind: kinds[0], name, message: breakMessage, details: d.problems.map((p) => `${p.path || '(value)'}: ${p.message}${p.verdict === 'maybe' ? ' (possibly)' : ''}`) })
  } else if (d.changed) {
    add({ severity: 'safe', kind: kinds[1], name, message: safeMessage })
  }
}

function same(x: Schema, y: Schema): boolean {
  const d = compareSchemas(x, y)
  return !d.changed
}
