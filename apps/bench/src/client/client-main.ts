// Load client process: many raw `ws` sockets speaking one contender's wire protocol. Identical
// for every contender; driven by the harness over IPC.
import WebSocket from 'ws'
import { TOKEN } from '../server/bench-server.js'
import { nowUs, sleep } from '../wire/clock.js'
import { Histogram } from '../wire/histogram.js'
import { announce, serveIpc } from '../wire/ipc.js'
import { protocols, readSeq, readTs, type ClientProtocol, type ProtocolName } from '../wire/protocols.js'
import { createRpcRun, type RpcArgs } from './rpc-run.js'

export interface Sock {
  ws: WebSocket
  ready: boolean
  ticks: number
  lastSeq: number
  /** Set while a call is out (RPC phase): what to do with its answer. */
  onReply: ((error: boolean) => void) | undefined
  onReady: ((ok: boolean) => void) | undefined
}

export interface ConnectArgs {
  /** `ws://127.0.0.1:port` of each server node; socket i goes to node (offset + i) % n. */
  bases: string[]
  protocol: ProtocolName
  count: number
  offset: number
  /** Handshakes in flight at once. */
  concurrency: number
  /** Loopback source addresses, used in turn (more ephemeral ports). */
  localAddresses: string[]
  timeoutMs: number
}

let proto: ClientProtocol = protocols.rt
let sockets: Sock[] = []
let unexpectedCloses = 0
let errorFrames = 0

// Fan-out counters, reset by `arm`.
let target = 0
let delivered = 0
let outOfOrder = 0
let firstRecvUs = 0
let lastRecvUs = 0
let hist = new Histogram()
let whenDelivered: (() => void) | undefined

function onMessage(s: Sock, data: Buffer): void {
  switch (proto.classify(data)) {
    case 'tick': {
      const now = nowUs()
      const seq = readSeq(data)
      if (seq !== s.lastSeq + 1) outOfOrder++
      s.lastSeq = seq
      s.ticks++
      hist.record(now - readTs(data))
      if (firstRecvUs === 0) firstRecvUs = now
      lastRecvUs = now
      if (++delivered === target) whenDelivered?.()
      return
    }
    case 'reply':
      return s.onReply?.(false)
    case 'ready':
      return s.onReady?.(true)
    case 'ping':
      return proto.answer(s.ws, data, TOKEN)
    case 'error':
      errorFrames++
      if (!s.ready) return s.onReady?.(false)
      return s.onReply?.(true)
  }
}

function open(url: string, localAddress: string | undefined, timeoutMs: number): Promise<Sock | null> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: timeoutMs, ...(localAddress && { localAddress }) })
    const s: Sock = { ws, ready: false, ticks: 0, lastSeq: -1, onReply: undefined, onReady: undefined }
    const timer = setTimeout(() => done(false), timeoutMs)
    function done(ok: boolean) {
      if (s.onReady === undefined) return
      s.onReady = undefined
      clearTimeout(timer)
      s.ready = ok
      if (!ok) ws.terminate()
      resolve(ok ? s : null)
    }
    s.onReady = done
    ws.on('message', (data: Buffer) => onMessage(s, data))
    ws.on('error', () => done(false))
    ws.on('close', () => {
      if (s.ready) unexpectedCloses++
      s.ready = false
      done(false)
      s.onReply?.(true)
    })
    ws.on('open', () => proto.open(ws, TOKEN) && done(true))
  })
}

async function connect(a: ConnectArgs) {
  proto = protocols[a.protocol]
  const startUs = nowUs()
  let next = 0
  let failed = 0
  const opened: Sock[] = []
  const worker = async () => {
    while (next < a.count) {
      const i = a.offset + next++
      const url = proto.url(a.bases[i % a.bases.length]!, TOKEN)
      const s = await open(url, a.localAddresses[i % a.localAddresses.length], a.timeoutMs)
      if (s) opened.push(s)
      else failed++
    }
  }
  await Promise.all(Array.from({ length: Math.min(a.concurrency, a.count) }, worker))
  sockets.push(...opened)
  return { ready: opened.length, failed, startUs, endUs: nowUs() }
}

export interface ChurnArgs {
  bases: string[]
  protocol: ProtocolName
  /** Cycles run until this long has passed (each one finishes). */
  durationMs: number
  /** Cycles in flight at once. */
  concurrency: number
  timeoutMs: number
}

/** Connect, authenticate (the server joins the rooms), close; again, until the time is up. */
async function churn(a: ChurnArgs) {
  proto = protocols[a.protocol]
  const startUs = nowUs()
  const end = Date.now() + a.durationMs
  let cycles = 0
  let failed = 0
  let i = 0
  const worker = async () => {
    while (Date.now() < end) {
      const s = await open(proto.url(a.bases[i++ % a.bases.length]!, TOKEN), undefined, a.timeoutMs)
      if (!s) {
        failed++
        continue
      }
      s.ready = false // closing on purpose: not an unexpected close
      await new Promise<void>((r) => {
        s.ws.once('close', () => r())
        s.ws.close(1000)
      })
      cycles++
    }
  }
  await Promise.all(Array.from({ length: a.concurrency }, worker))
  return { cycles, failed, startUs, endUs: nowUs() }
}

async function closeAll() {
  const all = sockets
  sockets = []
  for (const s of all) s.ready = false
  await Promise.all(
    all.map(
      (s) =>
        new Promise<void>((r) => {
          if (s.ws.readyState === WebSocket.CLOSED) return r()
          s.ws.once('close', () => r())
          s.ws.terminate()
        }),
    ),
  )
  unexpectedCloses = 0
  errorFrames = 0
  ;(globalThis as { gc?: () => void }).gc?.()
  return { closed: all.length }
}

serveIpc({
  connect,
  churn,
  closeAll,
  arm({ perSocket }: { perSocket: number }) {
    const live = sockets.filter((s) => s.ready)
    for (const s of live) {
      s.ticks = 0
      s.lastSeq = -1
    }
    target = live.length * perSocket
    delivered = outOfOrder = firstRecvUs = lastRecvUs = 0
    hist = new Histogram()
    return { armed: live.length }
  },
  async collect({ timeoutMs }: { timeoutMs: number }) {
    if (delivered < target) {
      await new Promise<void>((r) => {
        const timer = setTimeout(r, timeoutMs)
        whenDelivered = () => (clearTimeout(timer), r())
      })
      whenDelivered = undefined
    }
    // A short grace so duplicates or extras would be seen too.
    await sleep(20)
    let min = Infinity
    let max = 0
    for (const s of sockets) {
      min = Math.min(min, s.ticks)
      max = Math.max(max, s.ticks)
    }
    return {
      delivered,
      target,
      minPerSocket: sockets.length ? min : 0,
      maxPerSocket: max,
      outOfOrder,
      firstRecvUs,
      lastRecvUs,
      unexpectedCloses,
      errorFrames,
      hist: hist.toJSON(),
    }
  },
  rpc: (args: RpcArgs) => createRpcRun(sockets.filter((s) => s.ready).slice(0, args.sockets), proto, args),
  cpu: () => {
    const u = process.cpuUsage()
    return u.user + u.system
  },
  exit: () => void setImmediate(() => process.exit(0)),
})
process.on('SIGTERM', () => process.exit(0))
announce({ pid: process.pid })
