import type { HistoryStore } from '@rt/contract'
import { createServer, type Bus } from '@rt/server'
import { createWsTransport } from '@rt/transport-ws'
import { historyContract } from './contract.js'

export interface HistoryNodeOptions {
  bus?: Bus
  /** The store; omitted: the server's default (`bus.history`, else its own memory store). */
  history?: HistoryStore
  port?: number
}

/** A disposable @rt node serving the history contract on a loopback port; `errors` collects what reached onError. */
export async function startHistoryNode(options: HistoryNodeOptions = {}) {
  const errors: unknown[] = []
  const srv = createServer({
    contract: historyContract,
    transport: createWsTransport({ port: options.port ?? 0, host: '127.0.0.1' }),
    authenticate: ({ auth }) => ({ user: { id: String((auth as { name?: string } | undefined)?.name ?? 'anon') } }),
    handlers: {},
    cluster: { heartbeatMs: 100, deadAfterMs: 600 },
    limits: { heartbeatIntervalMs: 200, heartbeatTimeoutMs: 1_000 },
    onError: (e) => errors.push(e),
    ...(options.bus && { bus: options.bus }),
    ...(options.history && { history: options.history }),
  })
  const { port } = await srv.listen()
  let closed = false
  return {
    srv,
    port,
    url: `ws://127.0.0.1:${port}`,
    errors,
    async [Symbol.asyncDispose]() {
      if (closed) return
      closed = true
      await srv.close()
    },
  }
}

export type HistoryNode = Awaited<ReturnType<typeof startHistoryNode>>
