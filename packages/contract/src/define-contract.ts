import type { HistoryOptions } from './history.js'
import { isSchema, type Schema } from './schema.js'

/** A client→server procedure: validated `input`, validated `output`. */
export interface ProcedureDef {
  input: Schema
  output: Schema
}

/** A server→client event: the server picks the recipients. */
export interface EventDef {
  payload: Schema
  subscribe?: false
}

/** A server→client topic: the client opts in; each distinct `params` value is its own stream. */
export interface TopicDef {
  payload: Schema
  subscribe: true
  params?: Schema
  /** Keep the last publications per stream, so a client that was away can recover them. See docs/history-and-recovery.md. */
  history?: HistoryOptions
}

/** What one role (or `shared`) declares. */
export interface Vocabulary {
  clientToServer?: Record<string, ProcedureDef>
  serverToClient?: Record<string, EventDef | TopicDef>
}

export interface ContractDef {
  shared?: Vocabulary
  roles: Record<string, Vocabulary>
}

/** A contract made by `defineContract`: plain data plus types, shared by client and server. */
export interface Contract<S extends Vocabulary = Vocabulary, R extends Record<string, Vocabulary> = Record<string, Vocabulary>> {
  readonly shared: S
  readonly roles: R
}

export type AnyContract = Contract<Vocabulary, Record<string, Vocabulary>>

type Procs<V> = V extends { clientToServer: infer P } ? P : {}
type Msgs<V> = V extends { serverToClient: infer M } ? M : {}
type Overlap<A, B> = Extract<keyof A, keyof B>

/** Marks names a role redeclares from `shared`, so the duplicate is a compile error that says why. */
type NoDuplicates<S, R> = {
  roles: {
    [K in keyof R]: {
      clientToServer?: {
        [P in Overlap<Procs<R[K]>, Procs<S>>]: `"${P & string}" is already declared in shared.clientToServer`
      }
      serverToClient?: {
        [P in Overlap<Msgs<R[K]>, Msgs<S>>]: `"${P & string}" is already declared in shared.serverToClient`
      }
    }
  }
}

/**
 * Declares a contract: per role and for `shared`, the procedures a client may call and the
 * events and topics the server pushes. Rejects a name declared twice in one role's vocabulary.
 */
export function defineContract<S extends Vocabulary = {}, R extends Record<string, Vocabulary> = {}>(
  def: { shared?: S; roles: R } & NoDuplicates<S, R>,
): Contract<S, R> {
  const shared = (def.shared ?? {}) as Vocabulary
  const roles = def.roles as Record<string, Vocabulary>
  if (typeof roles !== 'object' || roles === null || Object.keys(roles).length === 0) {
    throw new TypeError('defineContract: `roles` must declare at least one role')
  }
  checkVocabulary('shared', shared)
  for (const [role, vocab] of Object.entries(roles)) {
    if (role === 'shared') throw new TypeError('defineContract: "shared" is reserved and cannot be a role name')
    checkVocabulary(`roles.${role}`, vocab)
    for (const dir of ['clientToServer', 'serverToClient'] as const) {
      for (const name of Object.keys(vocab[dir] ?? {})) {
        if (Object.hasOwn(shared[dir] ?? {}, name)) {
          throw new TypeError(
            `defineContract: "${name}" is declared twice in role "${role}": in shared.${dir} and in roles.${role}.${dir}`,
          )
        }
      }
    }
  }
  return Object.freeze({ shared: shared as S, roles: roles as R })
}

function checkVocabulary(where: string, vocab: Vocabulary): void {
  for (const [name, p] of Object.entries(vocab.clientToServer ?? {})) {
    if (!isSchema(p?.input) || !isSchema(p?.output)) {
      throw new TypeError(`defineContract: ${where}.clientToServer.${name} needs an \`input\` and an \`output\` schema`)
    }
  }
  for (const [name, m] of Object.entries(vocab.serverToClient ?? {})) {
    if (!isSchema(m?.payload)) throw new TypeError(`defineContract: ${where}.serverToClient.${name} needs a \`payload\` schema`)
    if (m.subscribe === true) {
      if (m.params !== undefined && !isSchema(m.params)) {
        throw new TypeError(`defineContract: ${where}.serverToClient.${name}.params must be a schema`)
      }
      if ('history' in m && m.history !== undefined) checkHistory(`${where}.serverToClient.${name}.history`, m.history)
    } else if ('params' in m && m.params !== undefined) {
      throw new TypeError(`defineContract: ${where}.serverToClient.${name} has params but is not a topic (subscribe: true)`)
    } else if ('history' in m && m.history !== undefined) {
      throw new TypeError(`defineContract: ${where}.serverToClient.${name} has history but is not a topic (subscribe: true)`)
    }
  }
}

/** The most publications a topic may keep per stream. */
const MAX_HISTORY_SIZE = 10_000

function checkHistory(where: string, h: unknown): void {
  if (typeof h !== 'object' || h === null) throw new TypeError(`defineContract: ${where} must be { size, ttlMs? }`)
  const { size, ttlMs } = h as { size?: unknown; ttlMs?: unknown }
  if (!Number.isInteger(size) || (size as number) < 1 || (size as number) > MAX_HISTORY_SIZE) {
    throw new TypeError(`defineContract: ${where}.size must be an integer from 1 to ${MAX_HISTORY_SIZE}`)
  }
  if (ttlMs !== undefined && (!Number.isSafeInteger(ttlMs) || (ttlMs as number) < 1)) {
    throw new TypeError(`defineContract: ${where}.ttlMs must be a positive integer (milliseconds)`)
  }
}
