import { createMemoryBus, type Logger } from '@rt/server'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { connect, startServer, until, wsTransport } from './harness.js'

function capture(): Logger & { lines: [string, object, string | undefined][] } {
  const lines: [string, object, string | undefined][] = []
  const at = (level: string) => (obj: object, msg?: string) => void lines.push([level, obj, msg])
  return { lines, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') }
}

describe('the logger option', () => {
  afterEach(() => vi.restoreAllMocks())

  it('gets what stderr got: errors with their context, pino-style (obj, msg)', async () => {
    const logger = capture()
    await using s = await startServer(wsTransport, { logger, onError: undefined as never })
    await using client = connect(s.url, 'user')
    const { conn } = await client.call.whoami({})
    await expect(client.call.fail({ kind: 'plain' })).rejects.toMatchObject({ code: 'INTERNAL' })
    await until(() => logger.lines.length === 1, 2_000, 'logged')
    const [level, obj, msg] = logger.lines[0]!
    expect([level, msg]).toEqual(['error', `error in handler fail (conn ${conn})`])
    expect(obj).toMatchObject({ where: 'handler', procedure: 'fail', connId: conn })
    expect((obj as { err: Error }).err.message).toBe('secret database password in this message')
  })

  it('defaults to stderr, one line per error as before; onError, when given, takes the errors instead', async () => {
    const written: string[] = []
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (written.push(String(chunk)), true))
    await using s = await startServer(wsTransport, { onError: undefined as never })
    await using client = connect(s.url, 'user')
    const { conn } = await client.call.whoami({})
    await expect(client.call.fail({ kind: 'plain' })).rejects.toMatchObject({ code: 'INTERNAL' })
    await until(() => written.some((l) => l.startsWith('[@rt/server]')), 2_000, 'stderr line')
    expect(written.find((l) => l.startsWith('[@rt/server]'))).toMatch(new RegExp(`^\\[@rt/server\\] error in handler fail \\(conn ${conn.replace(/[.]/g, '\\.')}\\): Error: secret database password in this message\\n    at `))

    const logger = capture()
    const seen: unknown[] = []
    await using t = await startServer(wsTransport, { logger, onError: (e) => void seen.push(e) })
    await using other = connect(t.url, 'user')
    await expect(other.call.fail({ kind: 'plain' })).rejects.toMatchObject({ code: 'INTERNAL' })
    await until(() => seen.length === 1, 2_000, 'onError')
    expect(logger.lines).toEqual([])
  })

  it('logs what a memory bus handler throws', async () => {
    const logger = capture()
    const bus = createMemoryBus({ logger })
    bus.subscribe('x', () => {
      throw new Error('handler broke')
    })
    bus.publish('x', new Uint8Array([1]))
    await bus.flush()
    expect(logger.lines.map(([l, o, m]) => [l, (o as { err: Error }).err.message, m])).toEqual([['error', 'handler broke', 'memory bus handler threw']])
    await bus.close()
  })
})
