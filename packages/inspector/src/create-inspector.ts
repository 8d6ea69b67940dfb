import type { IncomingMessage, ServerResponse } from 'node:http'
import { MAX_BODY, isUnder, route, type InspectorRequest, type Reply, type Routes } from './handle-request.js'
import { overview, type InspectedServer } from './overview.js'
import { renderPage } from './page.js'
import { RateSampler } from './rates.js'

export interface InspectorOptions {
  /** Required: may this request see the inspector? Refused requests get 401. See `basicAuth`. */
  auth: (request: InspectorRequest) => boolean | Promise<boolean>
  /** Actions that change the cluster, each off unless enabled. @default {} */
  actions?: { /** Close a connection, on any node. @default false */ disconnect?: boolean }
  /** Where it is mounted: the page here, its JSON under `<path>/api/`. @default '/inspect' */
  path?: string
  /** How often rates are sampled and the page refreshes. @default 2_000 */
  intervalMs?: number
  /** How far back the charts go. @default 300_000 (5 minutes) */
  windowMs?: number
  /** Most rooms listed (the largest). @default 50 */
  maxRooms?: number
  /** Receives errors of the auth hook and the inspector itself. @default writes to stderr */
  onError?: (error: unknown) => void
}

/** A mounted inspector: one handler per style of HTTP server; `close` stops its sampling. */
export interface Inspector extends Disposable {
  readonly path: string
  /** A Node `http` request listener's part: answers under `path` and returns true; returns false for other paths. */
  handle(req: IncomingMessage, res: ServerResponse): boolean
  /** A fetch-style handler (Hono, uWS adapters, Deno): 404 outside `path`. */
  fetch(request: Request): Promise<Response>
  close(): void
}

const defaultOnError = (e: unknown) => void process.stderr.write(`[@rt/inspector] ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`)

/** Creates the inspector of a server node; it shows the whole cluster from that node's replicated state. */
export function createInspector(srv: InspectedServer, options: InspectorOptions): Inspector {
  if (typeof options?.auth !== 'function') throw new TypeError('createInspector: `auth` is required, e.g. basicAuth({ password })')
  const base = (options.path ?? '/inspect').replace(/\/+$/, '')
  if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(base)) throw new TypeError('createInspector: path must look like /inspect (letters, digits, . _ ~ -)')
  const intervalMs = options.intervalMs ?? 2_000
  const windowMs = options.windowMs ?? 300_000
  const maxRooms = options.maxRooms ?? 50
  if (!(intervalMs >= 10 && windowMs >= intervalMs && Number.isInteger(maxRooms) && maxRooms > 0)) {
    throw new TypeError('createInspector: intervalMs must be at least 10, windowMs at least intervalMs, maxRooms a positive integer')
  }
  const disconnect = options.actions?.disconnect === true
  const report = options.onError ?? defaultOnError
  const sampler = new RateSampler(intervalMs, Math.ceil(windowMs / intervalMs) + 1)
  const sample = () => {
    try {
      sampler.sample(srv.nodes())
    } catch (e) {
      report(e)
    }
  }
  sample()
  const timer = setInterval(sample, intervalMs)
  timer.unref()

  const routes: Routes = {
    base,
    auth: options.auth,
    page: renderPage({ base, intervalMs, disconnect }),
    disconnect,
    overview: () => overview(srv, sampler, maxRooms, disconnect),
    connections: (q) => srv.fetchConnections(q),
    close: (connId) => srv.toConn(connId).disconnect(1000, 'disconnected by an operator'),
    report,
  }

  const inspector: Inspector = {
    path: base,
    handle(req, res) {
      const url = req.url ?? '/'
      if (!isUnder(base, url.split('?', 1)[0]!)) return false
      const headers: Record<string, string | undefined> = {}
      for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : v
      route(routes, { method: req.method ?? 'GET', url, headers }, () => nodeBody(req)).then(
        (reply) => write(res, req.method === 'HEAD', reply),
        (e: unknown) => {
          report(e)
          if (!res.headersSent) res.writeHead(500).end()
        },
      )
      return true
    },
    async fetch(request) {
      const u = new URL(request.url)
      if (!isUnder(base, u.pathname)) return new Response('Not found', { status: 404 })
      const headers: Record<string, string | undefined> = {}
      request.headers.forEach((v, k) => (headers[k] = v))
      const reply = await route(routes, { method: request.method, url: u.pathname + u.search, headers }, () => fetchBody(request))
      return new Response(request.method === 'HEAD' ? null : reply.body, { status: reply.status, headers: reply.headers })
    },
    close: () => clearInterval(timer),
    [Symbol.dispose]: () => clearInterval(timer),
  }
  return inspector
}

function write(res: ServerResponse, head: boolean, reply: Reply): void {
  res.writeHead(reply.status, { ...reply.headers, 'content-length': Buffer.byteLength(reply.body) })
  res.end(head ? undefined : reply.body)
}

/** The body, or undefined past `MAX_BODY` bytes (then no more is kept). */
function nodeBody(req: IncomingMessage): Promise<string | undefined> {
  if (Number(req.headers['content-length'] ?? 0) > MAX_BODY) return Promise.resolve(undefined)
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size <= MAX_BODY) chunks.push(c)
    })
    req.on('end', () => resolve(size > MAX_BODY ? undefined : Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

async function fetchBody(request: Request): Promise<string | undefined> {
  if (Number(request.headers.get('content-length') ?? 0) > MAX_BODY) return undefined
  if (!request.body) return ''
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > MAX_BODY) {
      await reader.cancel()
      return undefined
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString('utf8')
}
