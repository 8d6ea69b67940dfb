// The reconnect storm: N @rt clients on one node; the node goes down (srv.close(), or SIGKILL)
// and comes back `downMs` later. Measured: connection attempts per second while it is down (at
// the port, and at the clients), the time until every client is open again and until the node
// holds every client's topic subscription again (then one publication must reach them all), and
// the node's CPU meanwhile; with `bystander`, the node is one of a 2-node cluster on NATS, and
// clients of the other node call `echo` at a steady pace throughout: their latency before and
// during the storm.
import { startNats, type Program } from '../harness/infra.js'
import { Child } from '../harness/proc.js'
import { sleep } from '../wire/clock.js'
import { mergeHistograms, quantile, type HistogramData } from '../wire/histogram.js'
import { countBetween, nowMs, perSecond } from './buckets.js'
import type { StormConnectArgs } from './storm-client.js'

export interface StormSizes {
  mode: 'full' | 'smoke'
  clients: number
  /** Load processes; each holds clients / clientProcs sockets (a process here gets ~20 000 fds). */
  clientProcs: number
  /** Clients connecting at once while the storm is set up. */
  concurrency: number
  /** How long the node stays down: after srv.close() has finished, or after the SIGKILL. */
  downMs: number
  /** Client reconnection policy; the client's defaults when unset. */
  reconnect?: { minDelayMs: number; maxDelayMs: number }
  /** Give up waiting for every client to be open again after this long. */
  recoverTimeoutMs: number
  /** A second node on the same NATS, with `callers` clients calling `echo` every `everyMs` throughout. */
  bystander?: { callers: number; everyMs: number; baselineMs: number }
}

export const STORM_SIZES: Record<StormSizes['mode'], StormSizes> = {
  full: { mode: 'full', clients: 10_000, clientProcs: 4, concurrency: 250, downMs: 5_000, recoverTimeoutMs: 60_000, bystander: { callers: 100, everyMs: 20, baselineMs: 3_000 } },
  smoke: { mode: 'smoke', clients: 200, clientProcs: 2, concurrency: 100, downMs: 1_000, reconnect: { minDelayMs: 50, maxDelayMs: 500 }, recoverTimeoutMs: 10_000, bystander: { callers: 5, everyMs: 20, baselineMs: 300 } },
}

export type StormVariant = 'graceful' | 'sigkill'

export interface StormResult {
  variant: StormVariant
  /** What the port did while the node was down. */
  down: '503' | 'closed'
  clients: number
  /** Time to open every client at the start (batches of `concurrency`). */
  connectMs: number
  /** srv.close(): from the goaway until it resolved (the node refuses upgrades with 503 meanwhile). */
  drainMs?: number
  /** From the stop (goaway or SIGKILL) until the restart. */
  downMs: number
  /** Upgrade requests the port received while the node was down (SIGKILL: from the moment a process held the port again). */
  serverAttempts: number
  serverPerSec: number
  /** Upgrade requests per second of downtime, second by second. */
  serverSeries: number[]
  /** Connection attempts the clients made while the node was down (closed-port ones included). */
  clientAttempts: number
  clientPerSec: number
  /** SIGKILL: how long the port had nothing listening before a new process held it. */
  portClosedMs?: number
  /** From the restart until the last client was open again. */
  recoverMs: number
  /** Client attempts from the restart until all were open. */
  recoverAttempts: number
  reopened: number
  /** From the restart until the node held every client's subscription to topic `pulse` again. */
  resubscribeMs: number
  /** Clients that then got a publication of the topic (every one: their subscriptions work). */
  resubscribed: number
  /** Server CPU of the restarted node from its restart until the last client was open, in ms. */
  recoverCpuMs: number
  /** Sockets in their handshake at the restarted node (`srv.stats().handshakes`, sampled every 20 ms): the most at once, and the most in each second from the restart. */
  handshakesPeak: number
  handshakeSeries: number[]
  /** The callers of the other node: call latency before the stop, and from the stop until all were open again. */
  bystander?: { callers: number; before: CallWindow; storm: CallWindow; errors: number }
  /** Per second from the stop until all were open: [second, upgrade requests at the port, client attempts]. */
  timeline: [number, number, number][]
  errors: string[]
}

type NodeInfo = { port: number; pid: number }
type NodeStats = { upgrades: [number, number][]; connections: number; open: number; lastConnectionAt: number; cpuUs: number; handshakes: [number, number][]; subscribed: [number, number][] }

export interface CallWindow {
  calls: number
  p50Us: number
  p99Us: number
  maxUs: number
}

/** Calls that ended in the 100 ms slots from `fromMs` up to `toMs` of the shared clock. */
function callWindow(slots: [number, HistogramData][], fromMs: number, toMs: number): CallWindow {
  const h = mergeHistograms(slots.filter(([k]) => k * 100 >= fromMs && k * 100 < toMs).map(([, d]) => d))
  return { calls: h.n, p50Us: quantile(h, 0.5), p99Us: quantile(h, 0.99), maxUs: h.max }
}

export interface StormOptions {
  /** Module specifier of another @rt/client build (to compare with). */
  clientModule?: string
  /** What the port does while the node is down: answer 503 (a load balancer, a draining node), or nothing (closed). @default '503' */
  down?: '503' | 'closed'
  log(line: string): void
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)

export async function runStorm(sizes: StormSizes, variant: StormVariant, o: StormOptions): Promise<StormResult> {
  const r: StormResult = { variant, down: o.down ?? '503', clients: sizes.clients, connectMs: 0, downMs: sizes.downMs, serverAttempts: 0, serverPerSec: 0, serverSeries: [], clientAttempts: 0, clientPerSec: 0, recoverMs: 0, recoverAttempts: 0, reopened: 0, resubscribeMs: 0, resubscribed: 0, recoverCpuMs: 0, handshakesPeak: 0, handshakeSeries: [], timeline: [], errors: [] }
  const log = (s: string) => o.log(`[storm ${variant}] ${s}`)
  const procs: Child[] = []
  let nats: Program | undefined
  let callers: Child | undefined
  const forkNode = async (port: number, up: boolean, spare = false, name = 'storm node') => {
    const c = await Child.fork<NodeInfo>(name, '../storm/storm-node.ts', { port, up, spare, ...(nats && { bus: nats.url }) }, { env: { NODE_ENV: 'production' } })
    procs.push(c)
    return c
  }
  try {
    if (sizes.bystander) nats = await startNats()
    let node = await forkNode(0, true)
    const { port } = node.info
    const url = `ws://127.0.0.1:${port}`
    const clients = await Promise.all(
      Array.from({ length: sizes.clientProcs }, async (_, i) => {
        const c = await Child.fork(`storm client ${i}`, '../storm/storm-client.ts', o.clientModule ? { clientModule: o.clientModule } : {})
        procs.push(c)
        return c
      }),
    )
    const share = (i: number) => Math.floor(sizes.clients / clients.length) + (i < sizes.clients % clients.length ? 1 : 0)
    const t0 = nowMs()
    const opened = await Promise.all(
      clients.map((c, i) => {
        const args: StormConnectArgs = { url, count: share(i), concurrency: sizes.concurrency, ...(sizes.reconnect && { reconnect: sizes.reconnect }) }
        return c.request<{ ready: number }>('connect', args, 120_000)
      }),
    )
    r.connectMs = nowMs() - t0
    const ready = sum(opened.map((x) => x.ready))
    log(`${ready}/${sizes.clients} clients open in ${Math.round(r.connectMs)} ms`)
    if (ready !== sizes.clients) throw new Error(`only ${ready} of ${sizes.clients} clients opened`)
    await sleep(300)
    let callsFrom = 0
    if (sizes.bystander) {
      const other = await forkNode(0, true, false, 'bystander node')
      callers = await Child.fork('bystander callers', '../storm/storm-client.ts', {})
      procs.push(callers)
      await callers.request('startCalls', { url: `ws://127.0.0.1:${other.info.port}`, count: sizes.bystander.callers, everyMs: sizes.bystander.everyMs }, 60_000)
      callsFrom = nowMs()
      await sleep(sizes.bystander.baselineMs)
    }

    // Down. The replacement process is started first (a Node start takes seconds on a loaded
    // machine): graceful, srv.close() (goaway, 503 to upgrades while draining, 1001) and the old
    // process exits; SIGKILL, it dies. The replacement then holds the port (answering 503), or
    // leaves it closed, until the restart.
    const spare = await forkNode(port, false, true)
    let downAt: number
    let drained: [number, number][] = []
    if (variant === 'graceful') {
      const { at, closedAt } = await node.request<{ at: number; closedAt: number }>('stopRt', {}, 60_000)
      downAt = at
      r.drainMs = closedAt - at
      log(`srv.close() took ${Math.round(r.drainMs)} ms`)
      drained = (await node.request<NodeStats>('stats')).upgrades
      await node.close()
    } else {
      downAt = nowMs()
      const exited = new Promise((res) => node.proc.once('exit', res))
      node.proc.kill('SIGKILL')
      await exited
    }
    const releasedAt = nowMs()
    node = spare
    if (r.down === '503') await node.request('listen')
    r.portClosedMs = r.down === '503' ? nowMs() - releasedAt : sizes.downMs
    await sleep(Math.max(0, releasedAt + sizes.downMs - nowMs()))
    if (r.down === 'closed') await node.request('listen')
    const { at: upAt, cpuUs: cpuAtUp } = await node.request<{ at: number; cpuUs: number }>('startRt')
    const waited = await Promise.all(clients.map((c) => c.request<{ open: number; total: number; lastOpenAt: number; states?: Record<string, number> }>('waitOpen', { timeoutMs: sizes.recoverTimeoutMs }, sizes.recoverTimeoutMs + 10_000)))
    r.reopened = sum(waited.map((w) => w.open))
    const allOpenAt = Math.max(...waited.map((w) => w.lastOpenAt))
    r.recoverMs = allOpenAt - upAt
    if (r.reopened !== sizes.clients) r.errors.push(`${r.reopened} of ${sizes.clients} clients open again after ${sizes.recoverTimeoutMs} ms: ${JSON.stringify(waited.map((w) => w.states))}`)
    // Re-subscribed: the restarted node counts every client's subscription (first at that count,
    // sampled every 20 ms); then one publication must reach every client.
    const end = nowMs() + sizes.recoverTimeoutMs
    let nodeStats = await node.request<NodeStats>('stats')
    r.recoverCpuMs = (nodeStats.cpuUs - cpuAtUp) / 1000
    while (nowMs() < end && (nodeStats.subscribed.at(-1)?.[1] ?? 0) < sizes.clients) {
      await sleep(50)
      nodeStats = await node.request<NodeStats>('stats')
    }
    const all = nodeStats.subscribed.find(([t, n]) => t >= upAt && n >= sizes.clients)
    r.resubscribeMs = all ? all[0] - upAt : 0
    await Promise.all(clients.map((c) => c.request('armPulse')))
    await node.request('pulse')
    const pulsed = await Promise.all(clients.map((c) => c.request<{ got: number }>('waitPulse', { timeoutMs: 10_000 }, 20_000)))
    r.resubscribed = sum(pulsed.map((p) => p.got))
    if (!all || r.resubscribed !== sizes.clients) r.errors.push(`${nodeStats.subscribed.at(-1)?.[1] ?? 0} topic subscriptions at the node, and ${r.resubscribed} of ${sizes.clients} clients got a publication, after the restart`)

    const upSlot = Math.floor(upAt / 100)
    r.handshakeSeries = Array.from({ length: Math.ceil((allOpenAt - upAt) / 1000) + 1 }, (_, i) =>
      Math.max(0, ...nodeStats.handshakes.filter(([k]) => k >= upSlot + i * 10 && k < upSlot + (i + 1) * 10).map(([, n]) => n)),
    )
    r.handshakesPeak = Math.max(0, ...r.handshakeSeries)
    if (callers && sizes.bystander) {
      const calls = await callers.request<{ slots: [number, HistogramData][]; errors: number; firstError?: string }>('stopCalls', {}, 30_000)
      if (calls.firstError) r.errors.push(`${calls.errors} bystander calls failed, the first with ${calls.firstError}`)
      // Whole slots: from the first after the callers started up to the stop; then from the stop until all were open.
      r.bystander = { callers: sizes.bystander.callers, before: callWindow(calls.slots, Math.ceil(callsFrom / 100) * 100, Math.floor(downAt / 100) * 100), storm: callWindow(calls.slots, Math.floor(downAt / 100) * 100, allOpenAt), errors: calls.errors }
      const b = r.bystander
      log(`bystander callers: p50/p99 ${(b.before.p50Us / 1000).toFixed(2)}/${(b.before.p99Us / 1000).toFixed(2)} ms before (${b.before.calls} calls), ${(b.storm.p50Us / 1000).toFixed(2)}/${(b.storm.p99Us / 1000).toFixed(2)} ms during the storm (${b.storm.calls} calls), ${b.errors} failed`)
    }
    nodeStats.upgrades.push(...drained)
    const clientStats = await Promise.all(clients.map((c) => c.request<{ attempts: [number, number][] }>('stats')))
    const attempts = clientStats.flatMap((s) => s.attempts)
    const down = (upAt - downAt) / 1000
    r.downMs = upAt - downAt
    r.serverAttempts = countBetween(nodeStats.upgrades, downAt, upAt)
    r.serverPerSec = r.serverAttempts / down
    r.serverSeries = perSecond(nodeStats.upgrades, downAt, Math.floor(down))
    r.clientAttempts = countBetween(attempts, downAt, upAt)
    r.clientPerSec = r.clientAttempts / down
    r.recoverAttempts = countBetween(attempts, upAt, allOpenAt + 100)
    const seconds = Math.ceil((allOpenAt - downAt) / 1000) + 1
    const server = perSecond(nodeStats.upgrades, downAt, seconds)
    const client = perSecond(attempts, downAt, seconds)
    r.timeline = server.map((n, i) => [i, n, client[i]!])
    if (nodeStats.open !== r.reopened) r.errors.push(`the node holds ${nodeStats.open} connections, ${r.reopened} clients are open`)
    log(`down ${(down).toFixed(1)} s: ${r.serverAttempts} upgrade requests at the port (${Math.round(r.serverPerSec)}/s; per second ${r.serverSeries.join(' ')}), ${r.clientAttempts} client attempts (${Math.round(r.clientPerSec)}/s)`)
    log(`restart → every client's topic subscription back at the node in ${Math.round(r.resubscribeMs)} ms; ${r.resubscribed} clients got the publication that followed`)
    log(`restart → all ${r.reopened} open in ${Math.round(r.recoverMs)} ms, ${r.recoverAttempts} attempts, ${Math.round(r.recoverCpuMs)} ms of server CPU, at most ${r.handshakesPeak} handshakes in flight (per second: ${r.handshakeSeries.join(' ')})`)
    await Promise.all(clients.map((c) => c.request('closeAll', {}, 60_000)))
  } catch (e) {
    r.errors.push(e instanceof Error ? e.message : String(e))
    log(`FAILED: ${r.errors.at(-1)}`)
  } finally {
    await Promise.all(procs.map((p) => p.close(3_000)))
    await nats?.stop()
  }
  return r
}
