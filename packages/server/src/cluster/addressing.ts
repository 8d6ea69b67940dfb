import type { Bus, BusSubscription, Frame, ServerFrame } from '@rt/contract'
import { decodeEnvelope, encodeEnvelope, fromPeers } from '@rt/contract/internal'
import { Encodings, type Codecs } from '../codecs.js'
import type { Connection } from '../connection.js'
import type { Telemetry } from '../telemetry/telemetry.js'
import type { Directory } from './directory.js'
import { subjects, type NodeControl, type NodeHeader as Header } from './subjects.js'

const enc = new TextEncoder()
const dec = new TextDecoder()

/**
 * Cross-node addressing over the bus. Every node listens on one subject of its own,
 * `node.<nodeId>` (see subjects.ts). A connection id names its node (`<nodeId>.<n>`), so `toConn` goes straight
 * there; `toUser` looks the user's connections up in the replicated directory and sends once
 * to each node that holds one. No node hears about a connection or user it does not hold, and
 * no per-user subscription is kept. Closing connections travels the same way, on
 * `node.<nodeId>.ctl`.
 */
export class Addressing {
  private nodeSub: BusSubscription | undefined
  private ctlSub: BusSubscription | undefined

  constructor(
    private readonly bus: Bus,
    private readonly nodeId: string,
    private readonly directory: Directory,
    private readonly local: (connId: string) => Connection | undefined,
    private readonly tel: Telemetry,
    private readonly codecs: Codecs,
  ) {}

  static nodeOf(connId: string): string {
    const i = connId.lastIndexOf('.')
    return i < 0 ? '' : connId.slice(0, i)
  }

  start(): void {
    const fromBus = fromPeers(this.nodeId, decodeEnvelope, (env) => {
      const t0 = this.tel.now()
      const [kind, id, role] = JSON.parse(env.header) as Header
      const n = kind === 'c' ? this.fromPeer(this.local(id), role, env.frame) : this.toLocalUser(id, role, env.frame, undefined)
      this.tel.received(kind === 'c' ? 'conn' : 'user', undefined, env.meta, n, t0)
    })
    this.nodeSub = this.bus.subscribe(subjects.node(this.nodeId), fromBus)
    this.ctlSub = this.bus.subscribe(subjects.nodeControl(this.nodeId), (data) => {
      let m: Partial<NodeControl> | null
      try {
        m = JSON.parse(dec.decode(data)) as Partial<NodeControl> | null
      } catch {
        return
      }
      // Only what this version understands; a later version's other ops are ignored.
      if (m?.op !== 'close' || !Array.isArray(m.to) || typeof m.code !== 'number' || typeof m.reason !== 'string') return
      const [kind, id, role] = m.to
      if (kind === 'c') this.closeLocal(this.local(id), role, m.code, m.reason)
      else for (const r of this.directory.userConns(id)) if (r.nodeId === this.nodeId) this.closeLocal(this.local(r.connId), role, m.code, m.reason)
    })
  }

  private closeLocal(conn: Connection | undefined, role: string | null, code: number, reason: string): void {
    if (conn && (role === null || conn.role === role)) conn.close(code, reason)
  }

  /** Closes one connection, wherever it is; `role` restricts it. A node of an older version ignores this. */
  closeConn(connId: string, role: string | null, code: number, reason: string): void {
    const node = Addressing.nodeOf(connId)
    if (node === this.nodeId) this.closeLocal(this.local(connId), role, code, reason)
    else if (node !== '') this.control(node, { op: 'close', to: ['c', connId, role], code, reason })
  }

  /** Closes every connection of a user, on every node that holds one. */
  closeUser(userId: string, role: string | null, code: number, reason: string): void {
    const nodes = new Set<string>()
    for (const r of this.directory.userConns(userId)) if (role === null || r.role === role) nodes.add(r.nodeId)
    for (const node of nodes) {
      if (node !== this.nodeId) this.control(node, { op: 'close', to: ['u', userId, role], code, reason })
      else for (const r of this.directory.userConns(userId)) if (r.nodeId === node) this.closeLocal(this.local(r.connId), role, code, reason)
    }
  }

  private control(node: string, m: NodeControl): void {
    this.bus.publish(subjects.nodeControl(node), enc.encode(JSON.stringify(m)))
  }

  /** A peer's frame (canonical) for one connection here: transcoded for one on another codec. */
  private fromPeer(conn: Connection | undefined, role: string | null, frame: Frame): number {
    return this.deliver(conn, role, conn === undefined || conn.codec === 0 ? frame : new Encodings(this.codecs, frame, undefined))
  }

  /** Writes to the connection, in its codec, if it may receive the frame; returns 1 if it did. */
  private deliver(conn: Connection | undefined, role: string | null, frame: Frame | Encodings): number {
    if (!conn || (role !== null && conn.role !== role)) return 0
    conn.send(frame instanceof Encodings ? frame.get(conn.codec) : frame)
    return 1
  }

  /** Writes to the user's connections here; another codec than the first is encoded once for all of them. */
  private toLocalUser(userId: string, role: string | null, frame: Frame, source: ServerFrame | undefined): number {
    let n = 0
    const codecs = this.codecs
    let made: Encodings | undefined
    for (const r of this.directory.userConns(userId)) {
      if (r.nodeId !== this.nodeId) continue
      const conn = this.local(r.connId)
      n += this.deliver(conn, role, conn === undefined || conn.codec === 0 ? frame : (made ??= new Encodings(codecs, frame, source)))
    }
    return n
  }

  private toNode(node: string, header: Header, frame: Frame, meta: string | undefined): void {
    this.bus.publish(subjects.node(node), encodeEnvelope(this.nodeId, JSON.stringify(header), frame, meta))
  }

  /** Sends an encoded frame (`source`, encoded canonically) to one connection, wherever it is. `role` restricts delivery. */
  toConn(connId: string, frame: Frame, source: ServerFrame, role: string | null): void {
    const t0 = this.tel.now()
    const span = this.tel.begin('conn')
    const node = Addressing.nodeOf(connId)
    let n = 0
    if (node === this.nodeId) {
      const conn = this.local(connId)
      n = this.deliver(conn, role, conn === undefined || conn.codec === 0 ? frame : conn.encoder.encode(source))
    } else if (node !== '') this.toNode(node, ['c', connId, role], frame, this.tel.meta(span))
    this.tel.sent(span, 'conn', undefined, n, t0)
  }

  /** Sends an encoded frame (`source`, encoded canonically) to every connection of a user, on every node that holds one. */
  toUser(userId: string, frame: Frame, source: ServerFrame, role: string | null): void {
    const t0 = this.tel.now()
    const span = this.tel.begin('user')
    const nodes = new Set<string>()
    for (const r of this.directory.userConns(userId)) if (role === null || r.role === role) nodes.add(r.nodeId)
    let n = 0
    let meta: string | undefined
    for (const node of nodes) {
      if (node === this.nodeId) n += this.toLocalUser(userId, role, frame, source)
      else this.toNode(node, ['u', userId, role], frame, (meta ??= this.tel.meta(span)))
    }
    this.tel.sent(span, 'user', undefined, n, t0)
  }

  /** Bus subscriptions this node holds for addressing (for leak checks). */
  get subscriptions(): number {
    return (this.nodeSub ? 1 : 0) + (this.ctlSub ? 1 : 0)
  }

  stop(): void {
    this.nodeSub?.unsubscribe()
    this.ctlSub?.unsubscribe()
    this.nodeSub = this.ctlSub = undefined
  }
}
