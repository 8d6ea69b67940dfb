// `pnpm bench:cluster-scale [--nodes 20] [--per-node 10000] [--smoke]`: what one node pays for
// the connections of the rest of the cluster. Every node holds the whole replicated directory;
// here K nodes share one process and one memory bus, with in-process sockets (no network), and
// the same total of connections is run once on a single node and once spread over K nodes, each
// connection in one of 100 shared rooms and in its own user's room. The difference is what
// replication costs: heap per remote connection on each node, directory bytes on the bus per
// connect and disconnect, and CPU per remote change received. Writes results/cluster-scale-*.json.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createMemoryBus, createMemoryHub, createServer, type Bus, type Transport, type TransportHandler } from '@rt/server'
import { describeMachine } from '../harness/machine.js'
import { benchDir } from '../harness/proc.js'
import { benchContract } from '../server/bench-contract.js'

const { values } = parseArgs({ options: { smoke: { type: 'boolean', default: false }, nodes: { type: 'string' }, 'per-node': { type: 'string' } } })
const K = Number(values.nodes ?? (values.smoke ? 3 : 20))
const C = Number(values['per-node'] ?? (values.smoke ? 300 : 10_000))
const log = (s: string) => process.stdout.write(`${s}\n`)
const gc = (globalThis as { gc?: () => void }).gc
if (!gc) throw new Error('run with --expose-gc (the run.sh does)')
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const cpuUs = () => {
  const u = process.cpuUsage()
  return u.user + u.system
}
async function heap(): Promise<number> {
  for (let i = 0; i < 4; i++) {
    gc!()
    await sleep(20)
  }
  return process.memoryUsage().heapUsed
}

/** A transport with no network: the bench opens sockets by calling the core's handler itself. */
function inProcess() {
  let handler: TransportHandler | undefined
  const transport: Transport = {
    async listen(h) {
      handler = h
      return { port: 0 }
    },
    async close() {},
  }
  const request = { url: '/?token=bench', headers: {}, remoteAddress: '127.0.0.1' }
  return {
    transport,
    /** Opens a socket and says hello; resolves with a function that closes it. */
    open(user: string): () => void {
      let gone = false
      const listener = handler!.open(
        {
          send() {},
          close(code, reason = '') {
            if (gone) return
            gone = true
            queueMicrotask(() => listener.close(code, reason))
          },
          bufferedAmount: 0,
        },
        request,
      )
      listener.message(JSON.stringify({ t: 'hello', v: 1, role: 'user', auth: { user } }))
      return () => {
        if (gone) return
        gone = true
        listener.close(1000, '')
      }
    },
  }
}

/** Directory traffic on the bus: messages and bytes published, by subject. */
function counted(bus: Bus, tally: Map<string, { n: number; bytes: number }>): Bus {
  const publish = bus.publish.bind(bus)
  bus.publish = (subject, data) => {
    if (subject.startsWith('cluster.')) {
      const t = tally.get(subject) ?? { n: 0, bytes: 0 }
      t.n++
      t.bytes += data.byteLength
      tally.set(subject, t)
    }
    publish(subject, data)
  }
  return bus
}

interface Phase {
  nodes: number
  connections: number
  heapGrowth: number
  connectCpuUs: number
  disconnectCpuUs: number
  deltaMessages: number
  deltaBytes: number
  /** Directory bytes published for the disconnects. */
  disconnectDeltaBytes: number
  convergeMs: number
}

async function phase(k: number, perNode: number): Promise<Phase> {
  const hub = createMemoryHub()
  const tally = new Map<string, { n: number; bytes: number }>()
  const nodes = await Promise.all(
    Array.from({ length: k }, async (_, i) => {
      const sockets = inProcess()
      const srv = createServer({
        contract: benchContract,
        transport: sockets.transport,
        bus: counted(createMemoryBus({ hub }), tally),
        nodeId: `n${i}`,
        authenticate: ({ auth }) => ({ user: { id: String((auth as { user: string }).user) } }),
        handlers: { shared: { echo: (x) => x } },
        onConnection: (conn) => {
          srv.room(`r${Number(conn.ctx.user.id.slice(1)) % 100}`).add(conn)
          srv.room(`u.${conn.ctx.user.id}`).add(conn)
        },
        // In-process sockets answer no pings: no connection is dropped as silent while the run lasts.
        limits: { maxHandshakes: Infinity, ratePerSecond: Infinity, heartbeatIntervalMs: 600_000, heartbeatTimeoutMs: 3_600_000 },
        // K nodes share one thread here: a long turn of one delays every node's heartbeat, which
        // real nodes (a process each) would not see. Nobody is declared dead for it.
        cluster: { heartbeatMs: 2_000, deadAfterMs: 600_000 },
      })
      await srv.listen()
      return { srv, sockets }
    }),
  )
  const total = k * perNode
  const seen = () => Math.min(...nodes.map((x) => x.srv.nodes().reduce((a, n) => a + n.connections, 0)))
  const converged = async (want: number) => {
    const t0 = performance.now()
    while (seen() !== want || nodes.some((x) => x.srv.nodes().length !== k)) {
      if (performance.now() - t0 > Number(process.env.RT_SCALE_WAIT_MS ?? 600_000)) {
        const views = nodes.map((x) => `${x.srv.nodeId}: ${x.srv.connections.size} here, sees ${x.srv.nodes().map((n) => `${n.id}=${n.connections}`).join(' ')}`)
        throw new Error(`no convergence: ${seen()} of ${want}\n${views.join('\n')}`)
      }
      await sleep(5)
    }
    return performance.now() - t0
  }
  await converged(0)
  const heap0 = await heap()
  tally.clear()
  const cpu0 = cpuUs()
  const closers: (() => void)[] = []
  for (let i = 0; i < total; i++) {
    closers.push(nodes[i % k]!.sockets.open(`u${i}`))
    if (i % 1_000 === 999) await sleep(0) // let handshakes and deltas run, as a real arrival rate would
    if (i % 50_000 === 49_999) log(`  ${k} nodes: ${i + 1} connected`)
  }
  const convergeMs = await converged(total)
  const connectCpuUs = cpuUs() - cpu0
  const heapGrowth = (await heap()) - heap0
  const delta = tally.get('cluster.delta') ?? { n: 0, bytes: 0 }
  tally.clear()
  const cpu1 = cpuUs()
  for (const close of closers) close()
  await converged(0)
  const disconnectCpuUs = cpuUs() - cpu1
  const disconnectDeltaBytes = tally.get('cluster.delta')?.bytes ?? 0
  await Promise.all(nodes.map((x) => x.srv.close()))
  return { nodes: k, connections: total, heapGrowth, connectCpuUs, disconnectCpuUs, deltaMessages: delta.n, deltaBytes: delta.bytes, disconnectDeltaBytes, convergeMs }
}

log(`cluster scale: ${K} nodes × ${C} connections (${K * C} in all) against 1 node with the same total`)
const single = await phase(1, K * C)
log(`1 node: heap +${(single.heapGrowth / 1048576).toFixed(1)} MiB, connect CPU ${Math.round(single.connectCpuUs / 1000)} ms, disconnect CPU ${Math.round(single.disconnectCpuUs / 1000)} ms`)
const many = await phase(K, C)
log(`${K} nodes: heap +${(many.heapGrowth / 1048576).toFixed(1)} MiB, connect CPU ${Math.round(many.connectCpuUs / 1000)} ms, disconnect CPU ${Math.round(many.disconnectCpuUs / 1000)} ms, ${many.deltaMessages} delta messages (${(many.deltaBytes / 1048576).toFixed(1)} MiB), converged ${Math.round(many.convergeMs)} ms after the last connect`)

const N = K * C
// Each connection is held by its own node and replicated on the K − 1 others.
const remoteEntries = N * (K - 1)
const perRemoteConn = (many.heapGrowth - single.heapGrowth) / remoteEntries
// A connect is 3 directory ops (+c, +r shared, +r own); a disconnect 1 (-c: rooms follow).
const bytesPerConnect = many.deltaBytes / N
const bytesPerDisconnect = many.disconnectDeltaBytes / N
const cpuPerRemoteConnectUs = (many.connectCpuUs - single.connectCpuUs) / remoteEntries
const cpuPerRemoteDisconnectUs = (many.disconnectCpuUs - single.disconnectCpuUs) / remoteEntries
const summary = { nodes: K, perNode: C, perRemoteConnBytes: perRemoteConn, deltaBytesPerConnect: bytesPerConnect, deltaBytesPerDisconnect: bytesPerDisconnect, cpuPerRemoteConnectUs, cpuPerRemoteDisconnectUs }
log('')
log('| what one node pays for each connection of another node | measured |')
log('|---|---:|')
log(`| heap per remote connection (in 1 shared room + its user's room) | ${perRemoteConn.toFixed(0)} B |`)
log(`| directory bytes published per connect (deltas, batched per turn) | ${bytesPerConnect.toFixed(1)} B |`)
log(`| directory bytes published per disconnect | ${bytesPerDisconnect.toFixed(1)} B |`)
log(`| CPU to apply one remote connect (3 ops) | ${cpuPerRemoteConnectUs.toFixed(2)} µs |`)
log(`| CPU to apply one remote disconnect | ${cpuPerRemoteDisconnectUs.toFixed(2)} µs |`)
const dir = join(benchDir, 'results')
mkdirSync(dir, { recursive: true })
const file = join(dir, `cluster-scale-${values.smoke ? 'smoke' : 'full'}.json`)
writeFileSync(file, `${JSON.stringify({ command: `pnpm bench:cluster-scale ${process.argv.slice(2).join(' ')}`.trim(), startedAt: new Date().toISOString(), machine: describeMachine(), single, many, summary }, null, 2)}\n`)
log(`wrote ${file}`)
process.exit(0)
