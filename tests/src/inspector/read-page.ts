import type { Page } from 'playwright-core'
import type { InspectedCluster } from './inspected-cluster.js'

/** The figures the inspector and the servers must agree on. */
export interface Figures {
  nodes: number
  connections: number
  users: number
  perNode: Record<string, { connections: number; roles: Record<string, number>; subscriptions: number }>
  rooms: Record<string, number>
  topics: Record<string, Record<string, number>>
}

/** What the page shows, read from its DOM. */
export function readPage(page: Page): Promise<Figures> {
  return page.evaluate(() => {
    const num = (e: Element | null) => Number(e?.textContent ?? NaN)
    const all = (sel: string, root: ParentNode = document) => Array.from(root.querySelectorAll(sel))
    const perNode: Figures['perNode'] = {}
    for (const tr of all('#nodes tr[data-node]')) {
      const roles: Record<string, number> = {}
      for (const chip of all('[data-role]', tr)) roles[chip.getAttribute('data-role')!] = num(chip.querySelector('b'))
      perNode[tr.getAttribute('data-node')!] = { connections: num(tr.querySelector('[data-k=connections]')), roles, subscriptions: num(tr.querySelector('[data-k=subscriptions]')) }
    }
    const rooms: Record<string, number> = {}
    for (const tr of all('#rooms tr[data-room]')) rooms[tr.getAttribute('data-room')!] = num(tr.querySelector('[data-k=size]'))
    const topics: Record<string, Record<string, number>> = {}
    for (const tr of all('#topics tr[data-topic]')) {
      const row: Record<string, number> = { total: num(tr.querySelector('[data-k=total]')) }
      for (const td of all('td[data-node]', tr)) if (num(td) > 0) row[td.getAttribute('data-node')!] = num(td)
      topics[tr.getAttribute('data-topic')!] = row
    }
    return {
      nodes: num(document.getElementById('stat-nodes')),
      connections: num(document.getElementById('stat-connections')),
      users: num(document.getElementById('stat-users')),
      perNode,
      rooms,
      topics,
    }
  })
}

/** The same figures from the servers' own API, read now. */
export async function readServers(c: InspectedCluster, via = 0): Promise<Figures> {
  const srv = c.nodes[via]!.srv
  const count = await srv.presence.count()
  const perNode: Figures['perNode'] = {}
  const topics: Figures['topics'] = {}
  for (const n of c.nodes) {
    const s = n.srv.stats()
    const roles = Object.fromEntries(Object.entries(s.roles).sort(([a], [b]) => (a < b ? -1 : 1)))
    perNode[n.srv.nodeId] = { connections: s.connections, roles, subscriptions: Object.values(s.topics).reduce((a, b) => a + b, 0) }
    for (const [t, k] of Object.entries(s.topics)) {
      if (k === 0) continue
      const row = (topics[t] ??= { total: 0 })
      row.total! += k
      row[n.srv.nodeId] = k
    }
  }
  const rooms: Figures['rooms'] = {}
  for (const name of await srv.rooms()) rooms[name] = await srv.room(name).count()
  return { nodes: srv.nodes().length, connections: count.connections, users: count.users, perNode, rooms, topics }
}
