import { describe, expect, it } from 'vitest'
import { RtError } from '@rt/contract'
import type { Conn } from '@rt/server'
import type { TestContract } from '../fixtures.js'
import { connect, sleep, startServer, until, type TransportFactory } from '../harness.js'

/** Events: conn.emit → client.on, off(), role scoping, validation, order. */
export function describeEvents(name: string, transport: TransportFactory) {
  describe(`events over ${name}`, () => {
    it('delivers conn.emit to client.on, and off() stops delivery', async () => {
      await using s = await startServer(transport)
      await using client = connect(s.url, 'user')
      const got: { room: string; text: string; from: string }[] = []
      const off = client.on('message', (m) => got.push(m))
      await client.call.notify({})
      await until(() => got.length === 1)
      expect(got[0]).toEqual({ room: 'lobby', text: 'hi', from: 'system' })
      off()
      await client.call.notify({})
      await client.call.ping({}) // a later round trip: the second event would have arrived by now
      expect(got).toHaveLength(1)
    })

    it('keeps every listener of an event, and isolates a throwing one', async () => {
      const errors: unknown[] = []
      await using s = await startServer(transport)
      await using client = connect(s.url, 'user', { onError: (e) => errors.push(e) })
      let a = 0
      let b = 0
      client.on('message', () => {
        a++
        throw new Error('listener bug')
      })
      client.on('message', () => b++)
      await client.call.notify({})
      await until(() => b === 1)
      expect(a).toBe(1)
      expect(errors.some((e) => (e as Error).message === 'listener bug')).toBe(true)
    })

    it('delivers pushes from one node to one connection in send order', async () => {
      await using s = await startServer(transport)
      await using client = connect(s.url, 'user')
      const texts: string[] = []
      client.on('message', (m) => texts.push(m.text))
      const conn = (await until(() => [...s.srv.connections.values()][0]))!
      for (let i = 0; i < 500; i++) conn.emit('message', { room: 'r', text: String(i), from: 's' })
      await until(() => texts.length === 500)
      expect(texts).toEqual(Array.from({ length: 500 }, (_, i) => String(i)))
    })

    it("scopes conn.emit to the connection's role at runtime", async () => {
      await using s = await startServer(transport)
      await using agent = connect(s.url, 'agent')
      await agent.ready()
      const conn = [...s.srv.connections.values()][0] as Conn<TestContract, 'agent'>
      expect(conn.role).toBe('agent')
      // `alert` is a user event: the types forbid it, and so does the server at runtime.
      expect(() => (conn.emit as (e: string, p: unknown) => void)('alert', { level: 'info', text: 'x' })).toThrow(RtError)
      const tasks: unknown[] = []
      agent.on('task', (t) => tasks.push(t))
      conn.emit('task', { id: '1', prompt: 'p' })
      await until(() => tasks.length === 1)
      expect(tasks[0]).toEqual({ id: '1', prompt: 'p' })
    })

    it('rejects a pushed payload that breaks the contract, on the server', async () => {
      await using s = await startServer(transport)
      await using client = connect(s.url, 'user')
      await client.ready()
      const conn = [...s.srv.connections.values()][0]!
      expect(() => conn.emit('message', { room: 1 } as never)).toThrow(/does not match the contract/)
    })

    it('drops and reports an inbound event that breaks the contract, on the client', async () => {
      const errors: unknown[] = []
      await using s = await startServer(transport, { validateOutput: false })
      await using client = connect(s.url, 'user', { onError: (e) => errors.push(e) })
      const got: unknown[] = []
      client.on('message', (m) => got.push(m))
      await client.ready()
      const conn = [...s.srv.connections.values()][0]!
      conn.emit('message', { room: 1 } as never)
      conn.emit('message', { room: 'ok', text: 't', from: 'f' })
      await until(() => got.length === 1)
      await sleep(20)
      expect(got).toEqual([{ room: 'ok', text: 't', from: 'f' }])
      expect(errors.some((e) => e instanceof RtError && e.code === 'BAD_REQUEST')).toBe(true)
    })

    it('refuses to listen to an event outside the role', async () => {
      await using s = await startServer(transport)
      await using agent = connect(s.url, 'agent')
      expect(() => (agent.on as (e: string, cb: () => void) => void)('alert', () => {})).toThrow(RtError)
    })
  })
}
