import type { HistoryStore } from '@rt/contract'
import { createServer, type Bus } from '@rt/server'
import { createWsTransport } from '@rt/transport-ws'
import { listening } from '../harness.js'
import { historyContract } from './contract.js'

export interface HistoryNodeOptions {
  bus?: Bus
  /** The store; omitted: the server's default (`bus.history`, else its own memory store). */
  history?: HistoryStore
  port?: number
  /** The server's budget for one history read. @default the server's (5 s) */
  recoveryTimeoutMs?: number
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
    limits: { heartbeatIntervalMs: 200, heartbeatTimeoutMs: 1_000, ...(options.recoveryTimeoutMs !== undefined && { recoveryTimeoutMs: options.recoveryTimeoutMs }) },
    onError: (e) => errors.push(e),
    ...(options.bus && { bus: options.bus }),
    ...(options.history && { history: options.history }),
  })
  return listening(srv, errors)
}

export type HistoryNode = Awaited<ReturnType<typeof startHistoryNode>>
