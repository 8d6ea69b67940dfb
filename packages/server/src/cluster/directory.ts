import type { Bus, BusSubscription } from '@rt/contract'
import { fromPeers } from '@rt/contract/internal'
import { readStats, type NodeStats } from './node-stats.js'
import { packMessage, subjects, unpackMessage, type DirectoryMessages, type DirectoryOp as Op, type Heartbeat, type Delta, type Snapshot } from './subjects.js'

/** One connection as every node knows it. */
export interface ConnRecord {
  connId: string
  nodeId: string
  userId: string
  role: string
  since: number
}

/** A live node of the cluster. */
export interface NodeInfo {
  id: string
  /** When the node started (ms since epoch). */
  started: number
  /** When this node last heard its heartbeat (ms since epoch); now for this node. */
  lastHeartbeat: number
  connections: number
  /** Its connections by role (replicated). */
  roles: Record<string, number>
  /** What it reported of itself in its last heartbeat (this node too: as its peers see it); absent until then, and from older versions. */
  stats?: NodeStats
}

/** Which connections `connections()` lists; every field given must match. */
export interface ConnectionQuery {
  /** This connection only. */
  connId?: string
  nodeId?: string
  role?: string
  userId?: string
  /** Members of this room. */
  room?: string
  /** At most this many. @default 1000 */
  limit?: number
}

export interface DirectoryOptions {
  bus: Bus
  nodeId: string
  /** How often each node announces itself. @default 2_000 */
  heartbeatMs: number
  /** Silence after which a node is declared dead and its state dropped. @default 6_000 */
  deadAfterMs: number
  onUser?: (userId: string, online: boolean) => void
  /** This node's own figures, sent with each heartbeat. */
  stats?: () => NodeStats
  report: (error: unknown) => void
}

interface NodeState {
  id: string
  started: number
  seq: number
  lastSeen: number
  conns: Map<string, ConnRecord>
  syncing: number
  roles: Map<string, number>
  stats?: NodeStats | undefined
}

/**
 * The cluster's shared picture of who is connected where and in which rooms, replicated to
 * every node over the bus: each node owns its part and broadcasts deltas (batched per turn),
 * heartbeats carry the latest sequence number so a node that missed deltas asks for a full
 * snapshot, a joining node gets every snapshot, and a node silent for `deadAfterMs` is dropped.
 * Queries are answered locally: the same cost on 1 node or 20.
 *
 * Room memberships are held once, in `byRoom`, for every node: a node's own part of them (for a
 * snapshot, a resync's difference, or dropping a dead node) is read from there by the records'
 * node, which costs a pass over the cluster's memberships on those rare occasions instead of a
 * second table entry for every membership all the time.
 */
export class Directory {
  private readonly nodes = new Map<string, NodeState>()
  private readonly self: NodeState
  /** A user's connections: the record itself while there is one (the usual case), a Map beyond. */
  private readonly byUser = new Map<string, ConnRecord | Map<string, ConnRecord>>()
  /** A room's members on every node: the record itself while it is alone (the DM pattern's user rooms), a Map beyond. */
  private readonly byRoom = new Map<string, ConnRecord | Map<string, ConnRecord>>()
  private ops: Op[] = []
  private flushScheduled = false
  private subs: BusSubscription[] = []
  private timer: ReturnType<typeof setInterval> | undefined

  constructor(private readonly o: DirectoryOptions) {
    this.self = { id: o.nodeId, started: Date.now(), seq: 0, lastSeen: Date.now(), conns: new Map(), syncing: 0, roles: new Map() }
    this.nodes.set(o.nodeId, this.self)
  }

  /** Bus subscriptions held for replication. */
  get subscriptions(): number {
    return this.subs.length
  }

  get started(): number {
    return this.self.started
  }

  start(): void {
    const { bus, nodeId } = this.o
    // Peers' messages only: each handler runs for another node's message, never our echo. Our
    // own deltas and heartbeats (`{"id":"<us>",…`) are recognised by their first bytes and
    // dropped before they are parsed: a node gets every one of its own publishes back.
    const own = new TextEncoder().encode(`{"id":${JSON.stringify(nodeId)}`)
    const echo = (data: Uint8Array) => {
      if (data.length <= own.length || (data[own.length] !== 0x2c && data[own.length] !== 0x7d)) return false
      for (let i = 0; i < own.length; i++) if (data[i] !== own[i]) return false
      return true
    }
    const on = <K extends keyof DirectoryMessages>(subject: string, fn: (m: DirectoryMessages[K]) => void) => {
      const handle = fromPeers(nodeId, unpackMessage<K>, fn)
      this.subs.push(
        bus.subscribe(subject, (data, s) => {
          if (echo(data)) return
          try {
            handle(data, s)
          } catch (e) {
            this.o.report(e)
          }
        }),
      )
    }
    on<'heartbeat'>(subjects.heartbeat, (m) => this.onHeartbeat(m))
    on<'delta'>(subjects.delta, (m) => this.onDelta(m))
    on<'leave'>(subjects.leave, (m) => this.drop(m.id))
    on<'join'>(subjects.join, (m) => this.sendSnapshot(m.id))
    on<'sync'>(subjects.sync(nodeId), (m) => this.sendSnapshot(m.from))
    on<'state'>(subjects.state(nodeId), (m) => this.onSnapshot(m))
    bus.publish(subjects.join, packMessage('join', { id: nodeId }))
    this.heartbeat()
    this.timer = setInterval(() => {
      this.heartbeat()
      this.sweep()
    }, this.o.heartbeatMs)
    this.timer.unref()
  }

  /** Leaves the cluster: a clean leave tells peers to drop this node at once. */
  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.flush()
    try {
      this.o.bus.publish(subjects.leave, packMessage('leave', { id: this.o.nodeId }))
    } catch {
      // the bus is already gone: peers will time this node out
    }
    for (const s of this.subs) s.unsubscribe()
    this.subs = []
  }

  // ---- local changes ----------------------------------------------------------------
  addConn(connId: string, userId: string, role: string, since: number): void {
    this.local(['+c', connId, userId, role, since])
  }
  removeConn(connId: string): void {
    this.local(['-c', connId])
  }
  joinRoom(room: string, connId: string): void {
    this.local(['+r', room, connId])
  }
  leaveRoom(room: string, connId: string): void {
    this.local(['-r', room, connId])
  }

  /** A change of this node's own part: applied here, then sent in the turn's delta (the op is not changed by either). */
  private local(op: Op): void {
    this.apply(this.self, op)
    this.queue(op)
  }

  // ---- queries -------------------------------------------------------------------------
  nodeList(): NodeInfo[] {
    const now = Date.now()
    return [...this.nodes.values()].map((n) => ({
      id: n.id,
      started: n.started,
      lastHeartbeat: n === this.self ? now : n.lastSeen,
      connections: n.conns.size,
      roles: Object.fromEntries(n.roles),
      ...(n.stats && { stats: n.stats }),
    }))
  }
  /** This node's connections by role. */
  roleCounts(): Record<string, number> {
    return Object.fromEntries(this.self.roles)
  }
  /** Connections anywhere, filtered; answered from the narrowest index the query allows. */
  connections(q: ConnectionQuery = {}): ConnRecord[] {
    const limit = q.limit ?? 1_000
    if (!(limit >= 0)) throw new TypeError('connections: limit must be a number, 0 or more')
    const out: ConnRecord[] = []
    if (limit <= 0) return out
    const one = q.connId === undefined ? undefined : [...this.nodes.values()].find((n) => n.conns.has(q.connId!))?.conns.get(q.connId)
    const from: Iterable<ConnRecord>[] =
      q.connId !== undefined ? [one ? [one] : []]
      : q.userId !== undefined ? [this.userConns(q.userId)]
      : q.room !== undefined ? [this.roomRecs(q.room)]
      : q.nodeId !== undefined ? [this.nodes.get(q.nodeId)?.conns.values() ?? []]
      : [...this.nodes.values()].map((n) => n.conns.values())
    for (const recs of from) {
      for (const r of recs) {
        if ((q.nodeId !== undefined && r.nodeId !== q.nodeId) || (q.role !== undefined && r.role !== q.role) || (q.userId !== undefined && r.userId !== q.userId)) continue
        if (q.room !== undefined && !this.inRoom(q.room, r.connId)) continue
        out.push(r)
        if (out.length >= limit) return out
      }
    }
    return out
  }
  userConns(userId: string): ConnRecord[] {
    const u = this.byUser.get(userId)
    return u === undefined ? [] : u instanceof Map ? [...u.values()] : [u]
  }
  users(): string[] {
    return [...this.byUser.keys()]
  }
  roomNames(): string[] {
    return [...this.byRoom.keys()]
  }
  isOnline(userId: string): boolean {
    return this.byUser.has(userId)
  }
  roomMembers(room: string): ConnRecord[] {
    return [...this.roomRecs(room)]
  }
  roomCount(room: string): number {
    const r = this.byRoom.get(room)
    return r === undefined ? 0 : r instanceof Map ? r.size : 1
  }

  private roomRecs(room: string): Iterable<ConnRecord> {
    const r = this.byRoom.get(room)
    return r === undefined ? [] : r instanceof Map ? r.values() : [r]
  }

  private inRoom(room: string, connId: string): boolean {
    const r = this.byRoom.get(room)
    return r !== undefined && (r instanceof Map ? r.has(connId) : r.connId === connId)
  }
  counts(): { connections: number; users: number } {
    let connections = 0
    for (const n of this.nodes.values()) connections += n.conns.size
    return { connections, users: this.byUser.size }
  }

  // ---- replication -----------------------------------------------------------------------
  private queue(op: Op): void {
    this.ops.push(op)
    if (!this.flushScheduled) {
      this.flushScheduled = true
      setImmediate(() => this.flush())
    }
  }

  private flush(): void {
    this.flushScheduled = false
    if (this.ops.length === 0) return
    const ops = this.ops
    this.ops = []
    this.self.seq++
    try {
      this.o.bus.publish(subjects.delta, packMessage('delta', { id: this.o.nodeId, started: this.self.started, seq: this.self.seq, ops }))
    } catch (e) {
      this.o.report(e)
    }
  }

  private heartbeat(): void {
    this.flush()
    try {
      // Measured once per heartbeat, not per `nodeList()`: that may be called on a hot path.
      const stats = (this.self.stats = this.o.stats?.())
      this.o.bus.publish(subjects.heartbeat, packMessage('heartbeat', { id: this.o.nodeId, started: this.self.started, seq: this.self.seq, conns: this.self.conns.size, ...(stats && { stats }) }))
    } catch (e) {
      this.o.report(e)
    }
  }

  private sweep(): void {
    const deadline = Date.now() - this.o.deadAfterMs
    for (const n of this.nodes.values()) if (n !== this.self && n.lastSeen < deadline) this.drop(n.id)
  }

  private peer(id: string, started: number): NodeState {
    let n = this.nodes.get(id)
    if (n && n.started !== started) {
      // Same id, new incarnation: the old one's state is gone.
      this.drop(id)
      n = undefined
    }
    if (!n) {
      n = { id, started, seq: -1, lastSeen: Date.now(), conns: new Map(), syncing: 0, roles: new Map() }
      this.nodes.set(id, n)
    }
    return n
  }

  private requestSync(n: NodeState): void {
    const now = Date.now()
    if (now - n.syncing < this.o.heartbeatMs) return // one request in flight at a time
    n.syncing = now
    this.o.bus.publish(subjects.sync(n.id), packMessage('sync', { from: this.o.nodeId }))
  }

  private onHeartbeat(m: Heartbeat): void {
    const n = this.peer(m.id, m.started)
    n.lastSeen = Date.now()
    n.stats = readStats(m.stats)
    if (n.seq < m.seq) this.requestSync(n)
  }

  private onDelta(m: Delta): void {
    const n = this.peer(m.id, m.started)
    n.lastSeen = Date.now()
    if (m.seq <= n.seq) return
    if (m.seq !== n.seq + 1) return this.requestSync(n)
    n.seq = m.seq
    for (const op of m.ops) this.apply(n, op)
  }

  private sendSnapshot(to: string): void {
    this.flush()
    const rooms: Snapshot['rooms'] = [...this.roomsOf(this.self)]
    const conns: Snapshot['conns'] = [...this.self.conns.values()].map((c) => [c.connId, c.userId, c.role, c.since])
    this.o.bus.publish(subjects.state(to), packMessage('state', { id: this.o.nodeId, started: this.self.started, seq: this.self.seq, conns, rooms }))
  }

  private onSnapshot(m: Snapshot): void {
    const n = this.peer(m.id, m.started)
    n.lastSeen = Date.now()
    n.syncing = 0
    if (m.seq < n.seq) return
    // Apply the difference, so online/offline fire only for real changes.
    const conns = new Map(m.conns.map((c) => [c[0], c]))
    const memberships = new Set(m.rooms.flatMap(([room, listed]) => listed.map((id) => `${id}\n${room}`)))
    for (const [room, members] of this.roomsOf(n)) for (const id of members) if (!memberships.has(`${id}\n${room}`)) this.apply(n, ['-r', room, id])
    for (const id of [...n.conns.keys()]) if (!conns.has(id)) this.apply(n, ['-c', id])
    for (const [id, c] of conns) if (!n.conns.has(id)) this.apply(n, ['+c', id, c[1], c[2], c[3]])
    for (const [room, listed] of m.rooms) for (const id of listed) this.apply(n, ['+r', room, id])
    n.seq = m.seq
  }

  /** Drops everything a node held (it left or died). */
  private drop(id: string): void {
    const n = this.nodes.get(id)
    if (!n || n === this.self) return
    for (const [room, members] of this.roomsOf(n)) for (const c of members) this.apply(n, ['-r', room, c])
    for (const c of [...n.conns.keys()]) this.apply(n, ['-c', c])
    this.nodes.delete(id)
  }

  private apply(n: NodeState, op: Op): void {
    switch (op[0]) {
      case '+c': {
        const [, connId, userId, role, since] = op
        if (n.conns.has(connId)) return
        const rec: ConnRecord = { connId, nodeId: n.id, userId, role, since }
        n.conns.set(connId, rec)
        n.roles.set(role, (n.roles.get(role) ?? 0) + 1)
        const u = this.byUser.get(userId)
        if (u === undefined) {
          this.byUser.set(userId, rec)
          this.o.onUser?.(userId, true)
        } else if (u instanceof Map) u.set(connId, rec)
        else this.byUser.set(userId, new Map([[u.connId, u], [connId, rec]]))
        return
      }
      case '-c': {
        const rec = n.conns.get(op[1])
        if (!rec) return
        n.conns.delete(op[1])
        const left = (n.roles.get(rec.role) ?? 1) - 1
        if (left > 0) n.roles.set(rec.role, left)
        else n.roles.delete(rec.role)
        const u = this.byUser.get(rec.userId)
        if (u === rec || (u instanceof Map && u.delete(op[1]) && u.size === 0)) {
          this.byUser.delete(rec.userId)
          this.o.onUser?.(rec.userId, false)
        }
        return
      }
      case '+r': {
        const [, room, connId] = op
        const rec = n.conns.get(connId)
        if (!rec) return
        const r = this.byRoom.get(room)
        if (r === undefined) this.byRoom.set(room, rec)
        else if (r instanceof Map) r.set(connId, rec)
        else if (r !== rec) this.byRoom.set(room, new Map([[r.connId, r], [connId, rec]]))
        return
      }
      case '-r': {
        // Only the node's own member: a peer's op never removes another node's.
        const [, room, connId] = op
        const r = this.byRoom.get(room)
        if (r === undefined) return
        if (r instanceof Map) {
          if (r.get(connId)?.nodeId === n.id && r.delete(connId) && r.size === 0) this.byRoom.delete(room)
        } else if (r.connId === connId && r.nodeId === n.id) this.byRoom.delete(room)
        return
      }
    }
  }

  /** A node's room memberships (connection ids by room), read from `byRoom`: O(the cluster's memberships). */
  private roomsOf(n: NodeState): Map<string, string[]> {
    const out = new Map<string, string[]>()
    // A peer with no connection has no membership (`+r` needs its connection): a node's first
    // snapshot from each peer, as it joins, skips the pass.
    if (n.conns.size === 0 && n !== this.self) return out
    const add = (room: string, rec: ConnRecord) => {
      if (rec.nodeId !== n.id) return
      const list = out.get(room)
      if (list) list.push(rec.connId)
      else out.set(room, [rec.connId])
    }
    for (const [room, r] of this.byRoom) {
      if (r instanceof Map) for (const rec of r.values()) add(room, rec)
      else add(room, r)
    }
    return out
  }
}
