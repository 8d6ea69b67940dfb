import type { AnyContract, EventDef, ProcedureDef, TopicDef, Vocabulary } from './define-contract.js'

/** A role's whole vocabulary (own ∪ shared), indexed for lookups by name at runtime. */
export interface RoleView {
  readonly role: string
  readonly procedures: ReadonlyMap<string, ProcedureDef>
  readonly events: ReadonlyMap<string, EventDef>
  readonly topics: ReadonlyMap<string, TopicDef>
}

function index(into: RoleView, vocab: Vocabulary | undefined): void {
  for (const [name, p] of Object.entries(vocab?.clientToServer ?? {})) (into.procedures as Map<string, ProcedureDef>).set(name, p)
  for (const [name, m] of Object.entries(vocab?.serverToClient ?? {})) {
    if (m.subscribe === true) (into.topics as Map<string, TopicDef>).set(name, m)
    else (into.events as Map<string, EventDef>).set(name, m)
  }
}

function view(role: string, ...vocabs: (Vocabulary | undefined)[]): RoleView {
  const v: RoleView = { role, procedures: new Map(), events: new Map(), topics: new Map() }
  for (const vocab of vocabs) index(v, vocab)
  return v
}

/** Runtime index of every role of a contract, plus the shared vocabulary under the key `shared`. */
export function indexContract(contract: AnyContract): { roles: ReadonlyMap<string, RoleView>; shared: RoleView } {
  const roles = new Map<string, RoleView>()
  for (const [role, vocab] of Object.entries(contract.roles)) roles.set(role, view(role, contract.shared, vocab))
  return { roles, shared: view('shared', contract.shared) }
}
