import { indexContract, type AnyContract, type ProcedureDef, type RoleView } from '@rt/contract'
import type { Connection } from './connection.js'
import type { BaseContext } from './types.js'

/** A procedure handler as the runtime calls it (the typed `Handler` erased). */
export type AnyHandler = (input: unknown, ctx: BaseContext, conn: Connection) => unknown

/** A procedure of a role: its definition and its handler, found with one lookup per call. */
export interface Procedure {
  readonly def: ProcedureDef
  readonly handler: AnyHandler
}

/** Everything a connection of one role needs at runtime, built once per server. */
export interface RoleEntry {
  readonly view: RoleView
  readonly procedures: ReadonlyMap<string, Procedure>
}

/** Indexes the contract and puts each handler beside its procedure, failing fast on any missing one. */
export function resolveRoles(contract: AnyContract, handlers: Record<string, Record<string, unknown> | undefined>) {
  const { roles, shared } = indexContract(contract)
  const entries = new Map<string, RoleEntry>()
  const missing: string[] = []
  for (const [role, view] of roles) {
    const procedures = new Map<string, Procedure>()
    for (const [name, def] of view.procedures) {
      const isShared = Object.hasOwn(contract.shared.clientToServer ?? {}, name)
      const group = isShared ? handlers.shared : handlers[role]
      const fn = group && Object.hasOwn(group, name) ? group[name] : undefined
      if (typeof fn === 'function') procedures.set(name, { def, handler: fn as AnyHandler })
      else missing.push(isShared ? `shared.${name}` : `${role}.${name}`)
    }
    entries.set(role, { view, procedures })
  }
  if (missing.length > 0) throw new TypeError(`createServer: missing handlers for ${[...new Set(missing)].join(', ')}`)
  return { roles, shared, entries }
}
