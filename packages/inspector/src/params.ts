import type { ConnectionQuery } from '@rt/server'

/** A request the inspector refuses, with the HTTP status and a message for the operator. */
export class BadInput extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

/** Most connections one listing returns. */
export const MAX_LIMIT = 1_000
const MAX_VALUE = 256
const FILTERS = { node: 'nodeId', role: 'role', user: 'userId', room: 'room' } as const

/** Reads the query of `/api/connections`: `node`, `role`, `user`, `room` and `limit`, each at most once. */
export function connectionQuery(search: string): ConnectionQuery & { limit: number } {
  const params = new URLSearchParams(search)
  const seen = new Set<string>()
  const q: ConnectionQuery & { limit: number } = { limit: 100 }
  for (const [name, value] of params) {
    if (seen.has(name)) throw new BadInput(400, `query parameter "${short(name)}" is given twice`)
    seen.add(name)
    if (name === 'limit') {
      if (!/^\d{1,4}$/.test(value) || Number(value) < 1 || Number(value) > MAX_LIMIT) throw new BadInput(400, `limit must be an integer from 1 to ${MAX_LIMIT}`)
      q.limit = Number(value)
    } else if (Object.hasOwn(FILTERS, name)) {
      if (value === '' || value.length > MAX_VALUE) throw new BadInput(400, `${name} must be 1-${MAX_VALUE} characters`)
      q[FILTERS[name as keyof typeof FILTERS]] = value
    } else {
      throw new BadInput(400, `unknown query parameter "${short(name)}" (expected node, role, user, room or limit)`)
    }
  }
  return q
}

/** Reads the body of `/api/disconnect`: `{ "connId": string }`. */
export function disconnectBody(text: string): { connId: string } {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    throw new BadInput(400, 'the body must be JSON: {"connId": "..."}')
  }
  const connId = (body as { connId?: unknown } | null)?.connId
  if (typeof connId !== 'string' || connId === '' || connId.length > MAX_VALUE) throw new BadInput(400, `connId must be a string of 1-${MAX_VALUE} characters`)
  return { connId }
}

/** Only a query with no parameters at all (the page and the overview take none). */
export function noQuery(search: string): void {
  for (const [name] of new URLSearchParams(search)) throw new BadInput(400, `unknown query parameter "${short(name)}"`)
}

// Echoed names are cut short: an error message is no place for a megabyte of query.
const short = (s: string) => (s.length > 40 ? `${s.slice(0, 40)}…` : s)
