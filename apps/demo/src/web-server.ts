// Serves the page and its bundle from memory, with this cluster's node list injected.
import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { WEB_DIR } from './build-web.js'

/** Where the page's client may connect: one entry per node, tried in turn on reconnect. */
export interface PageConfig {
  nodes: { port: number; path: string }[]
  /** Index of the node that served the page: the page connects to it first. */
  self: number
  transport: string
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
}

/** A handler mounted at a path prefix (`/metrics`, `/inspect`), before the page's own files. */
export type Mount = (req: IncomingMessage, res: ServerResponse) => void

export function createWebServer(config: () => PageConfig, health: () => object, mounts: Record<string, Mount> = {}): Server {
  const files = new Map<string, Buffer>()
  for (const f of ['index.html', 'style.css', 'app.js', 'app.js.map']) {
    try {
      files.set(`/${f}`, readFileSync(`${WEB_DIR}${f}`))
    } catch {
      throw new Error(`${WEB_DIR}${f} is missing: run \`pnpm --filter @rt/demo build:web\` (the start and cluster scripts do it)`)
    }
  }
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!
    for (const [prefix, mount] of Object.entries(mounts)) {
      if (path === prefix || path.startsWith(`${prefix}/`)) return mount(req, res)
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405).end()
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' })
      return void res.end(JSON.stringify(health()))
    }
    if (path === '/' || path === '/index.html') {
      // JSON in a script tag: escape `<` so no value can close the tag.
      const json = JSON.stringify(config()).replace(/</g, '\\u003c')
      const html = files.get('/index.html')!.toString().replace('<!--RT_CONFIG-->', `<script>window.RT_DEMO = ${json}</script>`)
      res.writeHead(200, { 'content-type': TYPES['.html']!, 'cache-control': 'no-store' })
      return void res.end(html)
    }
    const body = files.get(path)
    if (!body) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found')
    res.writeHead(200, { 'content-type': TYPES[path.slice(path.lastIndexOf('.'))] ?? 'application/octet-stream', 'cache-control': 'no-cache' })
    res.end(body)
  })
}
