import type { Bus, BusSubscription, Frame } from '@rt/contract'
import { decodeEnvelope, encodeEnvelope, fromPeers } from '@rt/contract/internal'
import type { Connection } from '../connection.js'
import type { Directory } from './directory.js'
import { subjects, type NodeHeader as Header } from './subjects.js'

/**
 * Cross-node addressing over the bus. Every node listens on one subject of its own,
 * `node.<nodeId>` (see subjects.ts). A connection id names its node (`<nodeId>.<n>`), so `toConn` goes straight
 * there; `toUser` looks the user's connections up in the replicated directory and sends once
 * to each node that holds one. No node hears about a connection or user it does not hold, and
 * no per-user subscription is kept.
 */
export class Addressing {
  private nodeSub: BusSubscription | undefined

  constructor(
    private readonly bus: Bus,
    private readonly nodeId: string,
    private readonly directory: Directory,
    private readonly local: (connId: string) => Connection | undefined,
  ) {}

  static nodeOf(connId: string): string {
    const i = connId.lastIndexOf('.')
    return i < 0 ? '' : connId.slice(0, i)
  }

  start(): void {
    const fromBus = fromPeers(this.nodeId, decodeEnvelope, (env) => {
      const [kind, id, role] = JSON.parse(env.header) as Header
      if (kind === 'c') this.deliver(this.local(id), role, env.frame)
      else this.toLocalUser(id, role, env.frame)
    })
    this.nodeSub = this.bus.subscribe(subjects.node(this.nodeId), fromBus)
  }

  private deliver(conn: Connection | undefined, role: string | null, frame: Frame): void {
    if (conn && (role === null || conn.role === role)) conn.send(frame)
  }

  private toLocalUser(userId: string, role: string | null, frame: Frame): void {
    for (const r of this.directory.userConns(userId)) if (r.nodeId === this.nodeId) this.deliver(this.local(r.connId), role, frame)
  }

  private toNode(node: string, header: Header, frame: Frame): void {
    this.bus.publish(subjects.node(node), encodeEnvelope(this.nodeId, JSON.stringify(header), frame))
  }

  /** Sends an encoded frame to one connection, wherever it is. `role` restricts delivery. */
  toConn(connId: string, frame: Frame, role: string | null): void {
    const node = Addressing.nodeOf(connId)
    if (node === this.nodeId) this.deliver(this.local(connId), role, frame)
    else if (node !== '') this.toNode(node, ['c', connId, role], frame)
  }

  /** Sends an encoded frame to every connection of a user, on every node that holds one. */
  toUser(userId: string, frame: Frame, role: string | null): void {
    const nodes = new Set<string>()
    for (const r of this.directory.userConns(userId)) if (role === null || r.role === role) nodes.add(r.nodeId)
    for (const node of nodes) {
      if (node === this.nodeId) this.toLocalUser(userId, role, frame)
      else this.toNode(node, ['u', userId, role], frame)
    }
  }

  /** Bus subscriptions this node holds for addressing (for leak checks). */
  get subscriptions(): number {
    return this.nodeSub ? 1 : 0
  }

  stop(): void {
    this.nodeSub?.unsubscribe()
    this.nodeSub = undefined
  }
}
