import type { Bus, BusSubscription, Frame } from '@rt/contract'
import { decodeEnvelope, encodeEnvelope, subjectToken } from '@rt/contract/internal'
import type { Connection } from '../connection.js'

/**
 * Cross-node addressing over the bus. A connection id names its node (`<nodeId>.<n>`), so
 * `toConn` goes straight to that node's subject; `toUser` goes to a per-user subject that a
 * node holds only while it has a connection of that user (interest-based routing).
 */
export class Addressing {
  private readonly local = new Map<string, Connection>()
  private readonly users = new Map<string, { conns: Set<Connection>; sub: BusSubscription }>()
  private nodeSub: BusSubscription | undefined

  constructor(
    private readonly bus: Bus,
    private readonly nodeId: string,
  ) {}

  static nodeOf(connId: string): string {
    const i = connId.lastIndexOf('.')
    return i < 0 ? '' : connId.slice(0, i)
  }

  start(): void {
    this.nodeSub = this.bus.subscribe(`node.${subjectToken(this.nodeId)}`, (data) => {
      const env = decodeEnvelope(data)
      if (!env) return
      const [connId, role] = JSON.parse(env.header) as [string, string | null]
      const conn = this.local.get(connId)
      if (conn && (role === null || conn.role === role)) conn.send(env.frame)
    })
  }

  track(conn: Connection): void {
    this.local.set(conn.id, conn)
    const uid = conn.ctx.user.id
    let u = this.users.get(uid)
    if (!u) {
      const conns = new Set<Connection>()
      const sub = this.bus.subscribe(`user.${subjectToken(uid)}`, (data) => {
        const env = decodeEnvelope(data)
        if (!env || env.origin === this.nodeId) return
        this.deliver(conns, env.header === '' ? null : env.header, env.frame)
      })
      this.users.set(uid, (u = { conns, sub }))
    }
    u.conns.add(conn)
  }

  untrack(conn: Connection): void {
    if (this.local.get(conn.id) !== conn) return
    this.local.delete(conn.id)
    const uid = conn.ctx.user.id
    const u = this.users.get(uid)
    if (u?.conns.delete(conn) && u.conns.size === 0) {
      u.sub.unsubscribe()
      this.users.delete(uid)
    }
  }

  /** Sends an encoded frame to one connection, wherever it is. `role` restricts delivery. */
  toConn(connId: string, frame: Frame, role: string | null): void {
    const node = Addressing.nodeOf(connId)
    if (node === this.nodeId) {
      const conn = this.local.get(connId)
      if (conn && (role === null || conn.role === role)) conn.send(frame)
      return
    }
    if (node === '') return
    this.bus.publish(`node.${subjectToken(node)}`, encodeEnvelope(this.nodeId, JSON.stringify([connId, role]), frame))
  }

  /** Sends an encoded frame to every connection of a user on every node. */
  toUser(userId: string, frame: Frame, role: string | null): void {
    const u = this.users.get(userId)
    if (u) this.deliver(u.conns, role, frame)
    this.bus.publish(`user.${subjectToken(userId)}`, encodeEnvelope(this.nodeId, role ?? '', frame))
  }

  private deliver(conns: Set<Connection>, role: string | null, frame: Frame): void {
    for (const c of conns) if (role === null || c.role === role) c.send(frame)
  }

  /** Bus subscriptions this node holds for addressing (for leak checks). */
  get subscriptions(): number {
    return this.users.size + (this.nodeSub ? 1 : 0)
  }

  stop(): void {
    this.nodeSub?.unsubscribe()
    this.nodeSub = undefined
    for (const u of this.users.values()) u.sub.unsubscribe()
    this.users.clear()
    this.local.clear()
  }
}
