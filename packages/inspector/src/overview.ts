import type { ConnectionQuery, MemberInfo, NodeInfo, Presence } from '@rt/server'
import type { RateSampler, Rates, Series } from './rates.js'

/** What the inspector uses of a server (`createServer`'s, of any contract): its public API only. */
export interface InspectedServer {
  readonly nodeId: string
  nodes(): NodeInfo[]
  rooms(): Promise<string[]>
  room(name: string): { count(): Promise<number> }
  readonly presence: Pick<Presence, 'count' | 'users'>
  fetchConnections(query?: ConnectionQuery): Promise<MemberInfo[]>
  toConn(connId: string): { disconnect(code?: number, reason?: string): Promise<void> }
}

/** One node as the page shows it. */
export interface NodeView {
  id: string
  started: number
  lastHeartbeat: number
  connections: number
  roles: Record<string, number>
  /** Client subscriptions by topic; null for a node that reports none (an older version). */
  topics: Record<string, number> | null
  rates: Rates | null
}

/** Everything the page shows but the connection list: `GET <path>/api/overview`. */
export interface Overview {
  /** The node that answered. */
  servedBy: string
  at: number
  actions: { disconnect: boolean }
  nodes: NodeView[]
  /** Connections by role, cluster-wide. */
  roles: Record<string, number>
  presence: { connections: number; users: number; sample: string[] }
  /** Rooms with members anywhere, the largest first (at most `maxRooms`); `count` is all of them. */
  rooms: { count: number; top: { name: string; size: number }[] }
  /** Every topic some node reports subscriptions to: the cluster total and each node's count. */
  topics: { name: string; total: number; nodes: Record<string, number> }[]
  series: Series
}

const SAMPLE_USERS = 20

/** Reads the replicated state this node has of the whole cluster. */
export async function overview(srv: InspectedServer, sampler: RateSampler, maxRooms: number, disconnect: boolean): Promise<Overview> {
  const infos = srv.nodes()
  const [names, count, users] = await Promise.all([srv.rooms(), srv.presence.count(), srv.presence.users()])
  const sizes = await Promise.all(names.map(async (name) => ({ name, size: await srv.room(name).count() })))
  const roles: Record<string, number> = {}
  const topics = new Map<string, { name: string; total: number; nodes: Record<string, number> }>()
  for (const n of infos) {
    for (const [role, k] of Object.entries(n.roles)) roles[role] = (roles[role] ?? 0) + k
    for (const [name, k] of Object.entries(n.stats?.topics ?? {})) {
      let t = topics.get(name)
      if (!t) topics.set(name, (t = { name, total: 0, nodes: {} }))
      t.total += k
      t.nodes[n.id] = k
    }
  }
  const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  return {
    servedBy: srv.nodeId,
    at: Date.now(),
    actions: { disconnect },
    nodes: infos
      .map((n) => ({
        id: n.id,
        started: n.started,
        lastHeartbeat: n.lastHeartbeat,
        connections: n.connections,
        roles: n.roles,
        topics: n.stats?.topics ?? null,
        rates: sampler.nodeRates(n.id) ?? null,
      }))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    roles,
    presence: { ...count, sample: users.slice(0, SAMPLE_USERS).sort() },
    rooms: { count: names.length, top: sizes.sort((a, b) => b.size - a.size || byName(a, b)).slice(0, maxRooms) },
    topics: [...topics.values()].sort(byName),
    series: sampler.series(),
  }
}
