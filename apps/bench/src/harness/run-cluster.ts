import { sleep } from '../wire/clock.js'
import type { Contender } from './contenders.js'
import { procCpuUs, type Program } from './infra.js'
import { closeAll, connect, fanout, roomSize, type Rig } from './measure.js'
import type { Child } from './proc.js'
import type { ClusterResult, FanoutResult } from './results.js'
import { startServer, type RunOptions } from './run-contender.js'
import type { Sizes } from './sizes.js'

type Cluster = NonNullable<Sizes['cluster']>

/**
 * Fans out until every socket gets every tick: bus subscriptions settle asynchronously after
 * the connections join, so the first broadcasts of a fresh cluster may miss a node.
 */
async function settle(rig: Rig, servers: Child[], n: number, burst: number): Promise<void> {
  for (let i = 0; i < 10; i++) {
    const r = await fanout(rig, servers, servers[0]!, n, { messages: 5, burst, intervalMs: 0 }, 3_000)
    if (r.complete) return
    await sleep(200)
  }
  throw new Error('the cluster never delivered every tick to every socket')
}

/** A throughput fan-out, then the same sockets at a fixed offered load, one tick at a time (latency). */
async function measure(c: Contender, sizes: Sizes, rig: Rig, o: RunOptions, k: Cluster, bus: Program | undefined): Promise<{ throughput: FanoutResult; paced: FanoutResult }> {
  const nodes: Child[] = []
  try {
    for (let i = 0; i < (bus ? k.nodes : 1); i++) {
      nodes.push(await startServer(c, o, bus ? { bus: { url: bus.url }, nodeId: `n${i}` } : {}, `server ${c.id}#${i}`))
    }
    const bases = nodes.map((s) => `ws://127.0.0.1:${(s.info as { port: number }).port}`)
    const conn = await connect(rig, nodes[0]!, bases, c.protocol, k.n)
    if (conn.ready !== k.n) throw new Error(`${conn.ready}/${k.n} connections opened`)
    const members = await roomSize(nodes)
    if (members !== k.n) throw new Error(`room has ${members} members across the nodes, ${k.n} sockets are open`)
    await settle(rig, nodes, k.n, sizes.burst)
    const busCpu = bus ? () => procCpuUs(bus.pid) : undefined
    const timeout = 20_000 + (k.n * k.m) / 20
    const throughput = await fanout(rig, nodes, nodes[0]!, k.n, { messages: k.m, burst: sizes.burst, intervalMs: 0 }, timeout, busCpu)
    const intervalMs = (1000 * k.n) / k.paced.deliveriesPerSec
    const messages = Math.max(2, Math.round(k.paced.durationMs / intervalMs))
    const paced = await fanout(rig, nodes, nodes[0]!, k.n, { messages, burst: 1, intervalMs }, timeout + k.paced.durationMs, busCpu)
    await closeAll(rig, nodes)
    return { throughput, paced }
  } finally {
    await Promise.all(nodes.map((s) => s.close()))
  }
}

/** Cross-node fan-out: k.n sockets spread over k.nodes nodes, ticks sent on node 0; and the same on one node. */
export async function runCluster(c: Contender, sizes: Sizes, rig: Rig, o: RunOptions, bus: Program, busName: string): Promise<ClusterResult> {
  const k = sizes.cluster!
  const r: ClusterResult = { id: c.id, label: c.label, bus: busName, nodes: k.nodes, errors: [] }
  const log = (s: string) => o.log(`[cluster ${c.id}] ${s}`)
  for (const [key, b] of [['single', undefined], ['cluster', bus]] as const) {
    try {
      const { throughput: f, paced: p } = await measure(c, sizes, rig, o, k, b)
      r[key] = f
      r[`${key}Paced`] = p
      log(`${key}: ${Math.round(f.deliveriesPerSec)} deliveries/s, ${f.cpuUsPerDelivery.toFixed(3)} µs CPU/delivery, p99 ${(f.p99Us / 1000).toFixed(1)} ms${f.complete ? '' : ' INCOMPLETE'}`)
      log(`${key} at ${k.paced.deliveriesPerSec} deliveries/s: p50 ${(p.p50Us / 1000).toFixed(2)} ms, p99 ${(p.p99Us / 1000).toFixed(2)} ms${p.complete ? '' : ' INCOMPLETE'}`)
    } catch (e) {
      r.errors.push(`${key}: ${e instanceof Error ? e.message : String(e)}`)
      log(`${key} FAILED: ${r.errors.at(-1)}`)
      await Promise.all(rig.clients.map((cl) => cl.request('closeAll', {}, 30_000).catch(() => {})))
    }
  }
  return r
}
