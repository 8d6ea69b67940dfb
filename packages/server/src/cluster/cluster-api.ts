import { CloseCode, RtError, type EventDef, type Frame, type RoleView, type ServerFrame } from '@rt/contract'
import { ContractViolation } from '@rt/contract/internal'
import type { RoomRegistry } from '@rt/rooms'
import { Connection } from '../connection.js'
import { checkPayload } from '../payload.js'
import type { Addressing } from './addressing.js'
import type { ConnRecord, Directory } from './directory.js'

type Encode = (frame: ServerFrame) => Frame

/** Validates (when enabled) an event, for any number of recipients: its frame, to encode once per codec. */
export function eventFrame(defs: ReadonlyMap<string, EventDef>, scope: string, event: string, payload: unknown, validateOutput: boolean): ServerFrame {
  const def = defs.get(event)
  if (!def) throw new ContractViolation('NOT_FOUND', `Event "${event}" is not in the ${scope} vocabulary`)
  if (validateOutput) checkPayload(def.payload, payload, `event "${event}"`)
  return { t: 'event', n: event, d: payload }
}

export interface ClusterParts {
  rooms: RoomRegistry<Connection>
  addressing: Addressing
  directory: Directory
  shared: RoleView
  roles: ReadonlyMap<string, RoleView>
  validateOutput: boolean
  /** The canonical encoding (the first codec's): what the bus carries and most connections get. */
  encode: Encode
}

function local(conn: unknown): Connection {
  if (!(conn instanceof Connection)) throw new TypeError('rooms take connections of this node (the `conn` a handler or hook receives)')
  return conn
}

/**
 * `srv.room(name)`: a handle; the room itself exists while it has members. A class, so that a
 * handle made per connection (a user's own room) costs one small object, not a closure per method.
 */
export class RoomHandle {
  readonly name: string

  constructor(
    private readonly p: ClusterParts,
    name: string,
  ) {
    if (typeof name !== 'string' || name === '') throw new TypeError('a room name must be a non-empty string')
    this.name = name
  }

  add(conn: unknown): void {
    const c = local(conn)
    if (!c.closed) this.p.rooms.add(this.name, c)
  }

  remove(conn: unknown): void {
    this.p.rooms.remove(this.name, local(conn))
  }

  has(conn: unknown): boolean {
    return conn instanceof Connection && this.p.rooms.has(this.name, conn)
  }

  broadcast(event: string, payload: unknown): void {
    // Rooms are mixed-role: only the shared vocabulary is understood by every member.
    const f = eventFrame(this.p.shared.events, 'shared', event, payload, this.p.validateOutput)
    this.p.rooms.broadcast(this.name, this.p.encode(f), f)
  }

  get size(): number {
    return this.p.rooms.size(this.name)
  }

  async count(): Promise<number> {
    return this.p.directory.roomCount(this.name)
  }

  async members(): Promise<ConnRecord[]> {
    return this.p.directory.roomMembers(this.name)
  }
}

const utf8 = new TextEncoder()

/** Rejects what a WebSocket close cannot carry: codes other than 1000 and 3000-4999, reasons over 123 bytes. */
function checkClose(code: unknown, reason: unknown): void {
  if (!(code === 1000 || (Number.isInteger(code) && (code as number) >= 3000 && (code as number) <= 4999))) {
    throw new TypeError('disconnect: the close code must be 1000 or 3000-4999')
  }
  if (typeof reason !== 'string' || utf8.encode(reason).length > 123) throw new TypeError('disconnect: the reason must be a string of at most 123 bytes')
}

/** `srv.toConn` / `srv.toUser`, optionally scoped to a role. */
export function targets(p: ClusterParts, role: string | null) {
  const view = role === null ? p.shared : p.roles.get(role)
  if (!view) throw new RtError('NOT_FOUND', `Role "${role}" is not in the contract`)
  const scope = role === null ? 'shared' : `role "${role}"'s`
  const attempt = (fn: () => void): Promise<void> => {
    try {
      fn()
      return Promise.resolve()
    } catch (e) {
      return Promise.reject(e)
    }
  }
  const send = (to: (frame: Frame, source: ServerFrame) => void, close: (code: number, reason: string) => void) => ({
    emit: (event: string, payload: unknown) =>
      attempt(() => {
        const f = eventFrame(view.events, scope, event, payload, p.validateOutput)
        to(p.encode(f), f)
      }),
    disconnect: (code: unknown = CloseCode.NORMAL, reason: unknown = '') =>
      attempt(() => {
        checkClose(code, reason)
        close(code as number, reason as string)
      }),
  })
  return {
    toConn: (connId: string) =>
      send(
        (f, source) => p.addressing.toConn(connId, f, source, role),
        (code, reason) => p.addressing.closeConn(connId, role, code, reason),
      ),
    toUser: (userId: string) =>
      send(
        (f, source) => p.addressing.toUser(userId, f, source, role),
        (code, reason) => p.addressing.closeUser(userId, role, code, reason),
      ),
  }
}
