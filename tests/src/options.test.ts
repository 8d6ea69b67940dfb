import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { createServer } from '@rt/server'
import { createWsTransport } from '@rt/transport-ws'
import { contract } from './fixtures.js'
import { defaultHandlers, wsTransport } from './harness.js'

const base = () => ({ contract, transport: wsTransport(), authenticate: () => ({ user: { id: 'u', name: 'u' } }), handlers: defaultHandlers() })

describe('createServer options', () => {
  it('refuses to start with a missing handler, naming it', () => {
    const handlers = defaultHandlers() as unknown as Record<string, Record<string, unknown>>
    delete handlers.agent!.reply
    delete handlers.shared!.ping
    expect(() => createServer({ ...base(), handlers } as never)).toThrow('createServer: missing handlers for shared.ping, agent.reply')
  })

  it('does not take inherited properties for handlers', () => {
    const handlers = defaultHandlers() as unknown as Record<string, Record<string, unknown>>
    handlers.user = Object.create({ notify: () => ({ ok: true }), joinRoom: () => ({ members: 1 }), burst: () => ({ sent: 0 }) })
    expect(() => createServer({ ...base(), handlers } as never)).toThrow(/user\.notify/)
  })

  it('validates limits, cluster timing and the node id', () => {
    expect(() => createServer({ ...base(), limits: { maxFrameBytes: 0 } })).toThrow('limits.maxFrameBytes must be a positive number')
    expect(() => createServer({ ...base(), cluster: { heartbeatMs: 1_000, deadAfterMs: 1_500 } })).toThrow(/deadAfterMs at least twice/)
    expect(() => createServer({ ...base(), nodeId: 'a.b' })).toThrow(/nodeId must be/)
    expect(createServer({ ...base(), nodeId: 'node-1' }).nodeId).toBe('node-1')
  })
})

describe('ws transport listen backlog', () => {
  /** The accept queue length of a listening socket, as the kernel reports it (`ss` Send-Q). */
  const backlogOf = (port: number) => Number(execFileSync('ss', ['-Hltn', `sport = :${port}`], { encoding: 'utf8' }).trim().split(/\s+/)[2])

  it('listens with a backlog of 4 096 by default (Node would use 511), or the one given', async () => {
    for (const [options, expected] of [[{}, 4_096], [{ backlog: 1_234 }, 1_234]] as const) {
      await using srv = createServer({ ...base(), transport: createWsTransport({ port: 0, host: '127.0.0.1', ...options }) })
      const { port } = await srv.listen()
      expect(backlogOf(port)).toBe(expected)
    }
  })
})
