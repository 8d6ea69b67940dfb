import { createServer as createHttpServer, type Server as HttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { basicAuth, createInspector, type Inspector, type InspectorOptions } from '@rt/inspector'
import { createMemoryBus, createMemoryHub, type Bus } from '@rt/server'
import { createUwsTransport } from '@rt/transport-uws'
import { createWsTransport } from '@rt/transport-ws'
import { connect, startServer, until } from '../harness.js'

export type TransportKind = 'ws' | 'uws'
export const PASSWORD = 'inspect-me'
/** `Authorization` for `basicAuth({ password: PASSWORD })`. */
export const AUTH = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`

async function listenHttp(http: HttpServer): Promise<number> {
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()))
  return (http.address() as AddressInfo).port
}

/**
 * Nodes each with a Node HTTP server that mounts the inspector: with `ws` the sockets ride on
 * that server (path /rt); with `uws` they have a port of their own, as in the demo.
 */
export async function inspectedCluster(kind: TransportKind, options: { nodes?: number; buses?: Bus[]; inspector?: Partial<InspectorOptions> } = {}) {
  const count = options.nodes ?? 3
  const hub = createMemoryHub()
  const buses = options.buses ?? Array.from({ length: count }, () => createMemoryBus({ hub }))
  const clients: { close(): Promise<void> }[] = []
  const startNode = async (i: number) => {
    const mounts: Inspector[] = []
    const http = createHttpServer((req, res) => {
      if (!mounts.some((m) => m.handle(req, res))) res.writeHead(404).end('not here')
    })
    const httpPort = await listenHttp(http)
    const transport = kind === 'ws' ? createWsTransport({ server: http, path: '/rt' }) : createUwsTransport({ port: 0, host: '127.0.0.1' })
    const node = await startServer(() => transport, { bus: buses[i]!, nodeId: `n${i + 1}`, cluster: { heartbeatMs: 100, deadAfterMs: 1_000 } })
    const inspector = createInspector(node.srv, { auth: basicAuth({ password: PASSWORD }), intervalMs: 200, ...options.inspector })
    mounts.push(inspector)
    return {
      ...node,
      http,
      inspector,
      /** Mounts another inspector on this node's HTTP server. */
      mount(o: Partial<InspectorOptions> & { path: string }) {
        const extra = createInspector(node.srv, { auth: basicAuth({ password: PASSWORD }), intervalMs: 200, ...o })
        mounts.push(extra)
        return extra
      },
      mounts,
      /** Where clients connect. */
      wsUrl: kind === 'ws' ? `ws://127.0.0.1:${httpPort}/rt` : `ws://127.0.0.1:${node.port}`,
      /** The inspector page. */
      pageUrl: `http://127.0.0.1:${httpPort}/inspect`,
      origin: `http://127.0.0.1:${httpPort}`,
    }
  }
  const nodes: Awaited<ReturnType<typeof startNode>>[] = []
  for (let i = 0; i < count; i++) nodes.push(await startNode(i))
  await until(() => nodes.every((n) => n.srv.nodes().length === count), 5_000, 'nodes to see each other')
  return {
    nodes,
    join<R extends 'user' | 'agent'>(i: number, role: R, name: string) {
      const c = connect(nodes[i]!.wsUrl, role, { auth: { name } })
      clients.push(c)
      return c
    },
    async [Symbol.asyncDispose]() {
      await Promise.all(clients.map((c) => c.close()))
      for (const n of nodes) for (const m of n.mounts) m.close()
      await Promise.all(nodes.map((n) => n.srv.close()))
      await Promise.all(
        nodes.map(
          (n) =>
            new Promise<void>((r) => {
              n.http.close(() => r())
              n.http.closeAllConnections()
            }),
        ),
      )
    },
  }
}

export type InspectedCluster = Awaited<ReturnType<typeof inspectedCluster>>
