// Serves the built page and the chat's @rt server on one port: the page over HTTP, the chat over
// WebSocket on /rt (in-memory bus, one node). `restart()` replaces the @rt server on the same port.
import { readFile } from 'node:fs/promises'
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http'
import { extname, join, normalize, resolve, sep } from 'node:path'
import { createMemoryHistory } from '@rt/server'
import { createWsTransport } from '@rt/transport-ws'
import { PAGE_DIR } from './build-page.js'
import { createChatServer } from './chat-server.js'

export const WS_PATH = '/rt'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
}

export interface ServeOptions {
  /** @default 8080; 0 picks a free port */
  port?: number
  /** @default '127.0.0.1' */
  host?: string
  /** The built page. @default dist/ of this app */
  pageDir?: string
  onError?: (error: unknown) => void
}

/** Serves dist/ (build it first) and the chat; resolves once both listen. */
export async function serveChat(options: ServeOptions = {}) {
  const pageDir = resolve(options.pageDir ?? PAGE_DIR) + sep
  const http: HttpServer = createHttpServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '')
    const file = join(pageDir, path === '/' ? 'index.html' : path)
    if (!file.startsWith(pageDir)) return void res.writeHead(404).end()
    readFile(file).then(
      (body) => res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body),
      () => res.writeHead(404).end('not found'),
    )
  })
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject)
    http.listen(options.port ?? 8080, options.host ?? '127.0.0.1', () => resolve())
  })
  const { port } = http.address() as { port: number }
  // Kept across restarts, as a database would be: pages that come back recover what they missed.
  const history = createMemoryHistory()
  const start = async () => {
    const srv = createChatServer({ transport: createWsTransport({ server: http, path: WS_PATH }), history, ...(options.onError ? { onError: options.onError } : {}) })
    await srv.listen()
    return srv
  }
  let srv = await start()
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}/`,
    port,
    /** The current @rt server. */
    get srv() {
      return srv
    },
    /** Closes the @rt server (its clients start reconnecting), then starts a new one on the same port. */
    async restart(downMs = 0) {
      await srv.close()
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs))
      srv = await start()
    },
    async close() {
      await srv.close()
      http.closeAllConnections()
      await new Promise<void>((r) => http.close(() => r()))
    },
  }
}
