import { describe, expect, it } from 'vitest'
import { RtError } from '@rt/contract'
import { connect, defaultHandlers, startServer, type TransportFactory } from '../harness.js'
import { rawSocket } from '../raw.js'

/** RPC: round trips, validation, typed errors, unknown procedures, role isolation. */
export function describeRpc(name: string, transport: TransportFactory) {
  describe(`rpc over ${name}`, () => {
    it('round-trips a call with typed input and output', async () => {
      await using s = await startServer(transport)
      await using client = connect(s.url, 'user')
      const before = Date.now()
      const { at } = await client.call.ping({})
      expect(at).toBeGreaterThanOrEqual(before)
      expect(await client.call.echo({ text: 'héllo ☃', n: 3 })).toEqual({ text: 'héllo ☃', n: 3 })
      const who = await client.call.whoami({})
      expect(who).toMatchObject({ user: 'ann', role: 'user', node: s.srv.nodeId })
      expect(who.conn).toBe(client.connId)
    })

    it('runs many concurrent calls and matches each result to its call', async () => {
      await using s = await startServer(transport)
      await using client = connect(s.url, 'user')
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => client.call.echo({ text: `m${i}`, n: i })))
      expect(results.map((r) => r.n)).toEqual(Array.from({ length: 50 }, (_, i) => i))
    })

    it('rejects invalid input with BAD_REQUEST carrying the schema issues, before the handler runs', async () => {
      let ran = false
      const handlers = defaultHandlers()
      handlers.shared.echo = (input) => ((ran = true), input)
      await using s = await startServer(transport, { handlers })
      await using client = connect(s.url, 'user')
      const err = await client.call.echo({ text: 42 } as never).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(RtError)
      expect((err as RtError).code).toBe('BAD_REQUEST')
      const issues = ((err as RtError).data as { issues: { path?: unknown[]; message: string }[] }).issues
      expect(issues[0]?.path).toEqual(['text'])
      expect(typeof issues[0]?.message).toBe('string')
      expect(ran).toBe(false)
    })

    it('sends an RtError typed, and turns any other throw into INTERNAL without leaking it', async () => {
      await using s = await startServer(transport)
      await using client = connect(s.url, 'user')
      const typed = (await client.call.fail({ kind: 'rt' }).catch((e: unknown) => e)) as RtError
      expect(typed).toBeInstanceOf(RtError)
      expect([typed.code, typed.message, typed.data]).toEqual(['CONFLICT', 'Already taken', { field: 'name' }])
      const plain = (await client.call.fail({ kind: 'plain' }).catch((e: unknown) => e)) as RtError
      expect(plain.code).toBe('INTERNAL')
      expect(plain.message).not.toContain('secret')
      expect(JSON.stringify(plain.data ?? null)).not.toContain('secret')
      expect(s.errors.some((e) => e instanceof Error && e.message.includes('secret'))).toBe(true)
    })

    it('turns an output that breaks the contract into INTERNAL and reports it', async () => {
      await using s = await startServer(transport)
      await using client = connect(s.url, 'user')
      const err = (await client.call.fail({ kind: 'output' }).catch((e: unknown) => e)) as RtError
      expect(err.code).toBe('INTERNAL')
      expect(s.errors.some((e) => e instanceof RtError && /does not match the contract/.test(e.message))).toBe(true)
    })

    it('answers an unknown procedure with NOT_FOUND', async () => {
      await using s = await startServer(transport)
      await using raw = await rawSocket(s.url)
      await raw.hello('user')
      raw.send({ t: 'call', id: 7, p: 'nope', d: {} })
      expect(await raw.next((f) => f.id === 7)).toMatchObject({ t: 'error', code: 'NOT_FOUND' })
    })

    it("never lets a role call another role's procedure", async () => {
      let replied = false
      await using s = await startServer(transport, {
        handlers: { ...defaultHandlers(), agent: { reply: () => ((replied = true), { ok: true }) } },
      })
      await using agent = connect(s.url, 'agent')
      expect((agent.call as Record<string, unknown>).notify).toBeUndefined()
      await using raw = await rawSocket(s.url)
      await raw.hello('user')
      raw.send({ t: 'call', id: 1, p: 'reply', d: { to: 'x', text: 'y' } })
      expect(await raw.next((f) => f.id === 1)).toMatchObject({ t: 'error', code: 'NOT_FOUND' })
      expect(replied).toBe(false)
      // ...while the agent itself may.
      expect(await agent.call.reply({ to: 'x', text: 'y' })).toEqual({ ok: true })
      expect(replied).toBe(true)
    })

    it('times out a call that gets no answer', async () => {
      await using s = await startServer(transport)
      await using client = connect(s.url, 'user')
      const err = (await client.call.fail({ kind: 'slow' }, { timeout: 50 }).catch((e: unknown) => e)) as RtError
      expect(err.code).toBe('TIMEOUT')
    })

    it('aborts a call with its signal', async () => {
      await using s = await startServer(transport)
      await using client = connect(s.url, 'user')
      const ac = new AbortController()
      const p = client.call.fail({ kind: 'slow' }, { signal: ac.signal })
      ac.abort(new Error('changed my mind'))
      await expect(p).rejects.toThrow('changed my mind')
    })

    it('limits calls in flight per connection', async () => {
      await using s = await startServer(transport, { limits: { maxInFlightCalls: 2 } })
      await using client = connect(s.url, 'user')
      const results = await Promise.allSettled([1, 2, 3].map(() => client.call.fail({ kind: 'slow' })))
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2)
      const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult
      expect((rejected.reason as RtError).code).toBe('RATE_LIMITED')
    })

    it('rate-limits a flood of frames with RATE_LIMITED, then closes the connection (4006)', async () => {
      await using s = await startServer(transport, { limits: { ratePerSecond: 5, rateBurst: 5, rateStrikes: 20 } })
      await using raw = await rawSocket(s.url)
      await raw.hello('user')
      for (let i = 1; i <= 30; i++) raw.send({ t: 'call', id: i, p: 'ping', d: {} })
      const ok = await raw.next((f) => f.id === 1)
      expect(ok.t).toBe('result')
      const limited = await raw.next((f) => f.t === 'error' && f.code === 'RATE_LIMITED')
      expect(limited.id).toBeGreaterThan(5)
      expect((await raw.closed()).code).toBe(4006)
    })
  })
}
