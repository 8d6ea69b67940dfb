import { msgpackEncoder } from '@rt/codec-msgpack'
import { CloseCode, RtError, jsonEncoder, type Encoder } from '@rt/contract'
import { createServer } from '@rt/server'
import { describe, expect, it } from 'vitest'
import { codecSocket } from './codecs/raw-codec-socket.js'
import { connect, defaultHandlers, sleep, startServer, until, wsTransport, type TransportFactory } from './harness.js'
import { contract } from './fixtures.js'
import { uwsTransport } from './uws-transport.js'

const transports: [string, TransportFactory][] = [
  ['ws', wsTransport],
  ['uWebSockets.js', uwsTransport],
]

for (const [name, transport] of transports) {
  describe(`codec negotiation over ${name}`, () => {
    it('stops a MessagePack client at a server without MessagePack: 4008 and a BAD_REQUEST naming the codec, no retry', async () => {
      await using s = await startServer(transport)
      await using c = connect(s.url, 'user', { encoder: msgpackEncoder })
      const states: { state: string; code?: number }[] = []
      c.onStateChange((e) => void states.push({ state: e.state, ...(e.code !== undefined && { code: e.code }) }))
      const err = await c.ready().catch((e: unknown) => e)
      expect(err).toBeInstanceOf(RtError)
      expect((err as RtError).code).toBe('BAD_REQUEST')
      expect((err as RtError).message).toBe('codec rt.msgpack not served (served: json)')
      expect(states.at(-1)).toEqual({ state: 'closed', code: CloseCode.UNSUPPORTED_CODEC })
      // Terminal: no second attempt follows.
      await sleep(300)
      expect(states.at(-1)).toEqual({ state: 'closed', code: CloseCode.UNSUPPORTED_CODEC })
      expect(s.srv.connections.size).toBe(0)
    })

    it('closes a socket asking for an unknown codec with 4008, after answering its subprotocol', async () => {
      await using s = await startServer(transport, { encoders: [jsonEncoder, msgpackEncoder] })
      await using sock = await codecSocket(s.url, jsonEncoder, ['rt.nope'])
      expect(sock.ws.protocol).toBe('rt.nope')
      const closed = await sock.closed()
      expect(closed).toEqual({ code: CloseCode.UNSUPPORTED_CODEC, reason: 'codec rt.nope not served (served: json, msgpack)' })
    })

    it('answers the first offered codec it serves, leaves other subprotocols as before, and JSON without any', async () => {
      await using s = await startServer(transport, { encoders: [jsonEncoder, msgpackEncoder] })
      await using both = await codecSocket(s.url, msgpackEncoder, ['app-token', 'rt.nope', 'rt.msgpack', 'rt.json'])
      expect(both.ws.protocol).toBe('rt.msgpack')
      expect((await both.hello()).binary).toBe(true)
      await using json = await codecSocket(s.url, jsonEncoder, ['rt.json'])
      expect(json.ws.protocol).toBe('rt.json')
      expect((await json.hello()).binary).toBe(false)
      // A subprotocol of the application's own: answered as the transport did before codecs, and JSON.
      await using other = await codecSocket(s.url, jsonEncoder, ['app-token'])
      expect(other.ws.protocol).toBe('app-token')
      expect((await other.hello()).frame.t).toBe('welcome')
      await using none = await codecSocket(s.url, jsonEncoder)
      expect(none.ws.protocol).toBe('')
      expect((await none.hello()).binary).toBe(false)
      await until(() => s.srv.connections.size === 4)
    })

    it('serves a single non-JSON encoder to clients that ask for it and to clients that ask for none', async () => {
      await using s = await startServer(transport, { encoder: msgpackEncoder })
      await using c = connect(s.url, 'user', { encoder: msgpackEncoder })
      expect((await c.call.echo({ text: 'x' })).text).toBe('x')
      await using bare = await codecSocket(s.url, msgpackEncoder)
      expect((await bare.hello()).binary).toBe(true)
    })
  })
}

describe('codec options', () => {
  const base = { contract, transport: wsTransport(), authenticate: () => ({ user: { id: 'u' } }), handlers: defaultHandlers() } as never as Parameters<typeof createServer>[0]
  it('refuses encoder and encoders together, an empty list and two encoders of one name', () => {
    expect(() => createServer({ ...base, encoder: jsonEncoder, encoders: [jsonEncoder] })).toThrow(/encoder or encoders/)
    expect(() => createServer({ ...base, encoders: [] })).toThrow(/one encoder at least/)
    const twin: Encoder = { ...msgpackEncoder }
    expect(() => createServer({ ...base, encoders: [jsonEncoder, msgpackEncoder, twin] })).toThrow(/two encoders are named "msgpack"/)
  })

  it('keeps JSON canonical (first) wherever it is listed: a client asking for none gets JSON', async () => {
    await using s = await startServer(wsTransport, { encoders: [msgpackEncoder, jsonEncoder] })
    await using none = await codecSocket(s.url, jsonEncoder)
    expect((await none.hello()).binary).toBe(false)
  })
})
