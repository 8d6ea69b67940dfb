// Load process of the reconnect storm: real @rt clients (not raw sockets: the storm is the
// client's reconnection policy at work), counting every connection attempt they make.
// argv[2]: { clientModule? } as JSON: another build of @rt/client to compare with.
import WebSocket from 'ws'
import { benchContract } from '../server/bench-contract.js'
import { TOKEN } from '../server/bench-server.js'
import { nowUs, sleep } from '../wire/clock.js'
import { Histogram, type HistogramData } from '../wire/histogram.js'
import { announce, serveIpc } from '../wire/ipc.js'
import { Buckets, nowMs } from './buckets.js'

/** The part of @rt/client used here, typed by shape: `--client` may load another build of it. */
interface StormClient {
  readonly state: string
  onStateChange(listener: (change: { state: string }) => void): () => void
  ready(): Promise<void>
  close(): Promise<void>
  readonly call: { echo(input: { ts: number; seq: number }): Promise<unknown> }
  subscribe(topic: 'pulse', listener: (p: unknown) => void): unknown
}
type CreateClient = (contract: unknown, options: Record<string, unknown>) => StormClient

const { clientModule } = JSON.parse(process.argv[2] ?? '{}') as { clientModule?: string }
// The workspace's client (on source: the harness runs with --conditions=@rt/source).
const source = clientModule ?? '@rt/client'
const { createClient } = (await import(source)) as { createClient: CreateClient }

const attempts = new Buckets()
class CountingWebSocket extends WebSocket {
  constructor(url: string) {
    super(url, { perMessageDeflate: false })
    attempts.add()
  }
}

let clients: StormClient[] = []
let lastOpenAt = 0
// Topic `pulse`: whether each client got a publication since `armPulse`.
let armed = false
let pulsed: boolean[] = []

export interface StormConnectArgs {
  url: string
  count: number
  /** Clients connecting at once while the storm is set up. */
  concurrency: number
  reconnect?: { minDelayMs?: number; maxDelayMs?: number }
}

async function connect(a: StormConnectArgs) {
  const start = nowMs()
  for (let i = 0; i < a.count; i += a.concurrency) {
    const batch = Array.from({ length: Math.min(a.concurrency, a.count - i) }, () => {
      const c = createClient(benchContract, {
        url: a.url,
        role: 'user',
        auth: { token: TOKEN },
        WebSocket: CountingWebSocket,
        ...(a.reconnect && { reconnect: a.reconnect }),
      })
      c.onStateChange(({ state }) => {
        if (state === 'open') lastOpenAt = Math.max(lastOpenAt, nowMs())
      })
      // Restored by the client after every reconnect.
      const i = pulsed.push(false) - 1
      c.subscribe('pulse', () => {
        if (armed) pulsed[i] = true
      })
      return c
    })
    clients.push(...batch)
    await Promise.all(batch.map((c) => c.ready()))
  }
  return { ready: clients.filter((c) => c.state === 'open').length, ms: nowMs() - start }
}

// Callers: clients that each call `echo` every `everyMs` (within the node's default per-connection
// rate limit, as an application's clients would); latencies kept per 100 ms of the shared clock.
let callers: StormClient[] = []
let calling = false
let loops: Promise<void>[] = []
const perSlot = new Map<number, Histogram>()
let callErrors = 0
let firstError: string | undefined

async function callLoop(c: StormClient, everyMs: number): Promise<void> {
  await sleep(Math.random() * everyMs) // spread over the period
  for (let seq = 0; calling; seq++) {
    const t = nowUs()
    const next = t / 1000 + everyMs
    try {
      await c.call.echo({ ts: t, seq })
    } catch (e) {
      callErrors++
      firstError ??= e instanceof Error ? `${(e as { code?: string }).code ?? e.name}: ${e.message}` : String(e)
      await sleep(10)
      continue
    }
    const end = nowUs()
    const k = Math.floor(end / 1e5)
    let h = perSlot.get(k)
    if (!h) perSlot.set(k, (h = new Histogram()))
    h.record(end - t)
    await sleep(Math.max(0, next - end / 1000))
  }
}

serveIpc({
  connect,
  /** Opens `count` clients on `url` and starts each calling `echo` every `everyMs`. */
  async startCalls({ url, count, everyMs }: { url: string; count: number; everyMs: number }) {
    callers = Array.from({ length: count }, () => createClient(benchContract, { url, role: 'user', auth: { token: TOKEN }, WebSocket: CountingWebSocket }))
    await Promise.all(callers.map((c) => c.ready()))
    calling = true
    loops = callers.map((c) => callLoop(c, everyMs))
    return { callers: callers.length }
  },
  /** Stops the callers: latencies per 100 ms slot of the shared clock, and how many calls failed. */
  async stopCalls() {
    calling = false
    await Promise.all(loops)
    await Promise.all(callers.map((c) => c.close()))
    callers = []
    const slots: [number, HistogramData][] = [...perSlot].map(([k, h]) => [k, h.toJSON()])
    perSlot.clear()
    return { slots, errors: callErrors, firstError }
  },
  /** Resolves when every client is open again (or at the timeout): how many, and when the last opened. */
  async waitOpen({ timeoutMs }: { timeoutMs: number }) {
    const end = nowMs() + timeoutMs
    let open = 0
    while ((open = clients.filter((c) => c.state === 'open').length) < clients.length && nowMs() < end) await sleep(20)
    const states: Record<string, number> = {}
    for (const c of clients) states[c.state] = (states[c.state] ?? 0) + 1
    return { open, total: clients.length, lastOpenAt, states }
  },
  /** From now on, a `pulse` publication is noted for each client that gets one. */
  armPulse() {
    armed = true
    pulsed.fill(false)
    return {}
  },
  /** Resolves when every client has had a `pulse` since `armPulse` (or at the timeout): how many did. */
  async waitPulse({ timeoutMs }: { timeoutMs: number }) {
    const end = nowMs() + timeoutMs
    while (pulsed.includes(false) && nowMs() < end) await sleep(20)
    return { got: pulsed.filter(Boolean).length, total: pulsed.length }
  },
  stats: () => ({ attempts: attempts.entries(), open: clients.filter((c) => c.state === 'open').length }),
  async closeAll() {
    const all = clients
    clients = []
    pulsed = []
    armed = false
    await Promise.all(all.map((c) => c.close()))
    return { closed: all.length }
  },
  exit: () => void setImmediate(() => process.exit(0)),
})
process.on('SIGTERM', () => process.exit(0))
announce({ pid: process.pid })
