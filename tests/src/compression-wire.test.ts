import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { connect, startServer, until } from './harness.js'
import { OFFER, compressedTransports } from './compression/transports.js'
import { inflateMessage, wireClient } from './compression/wire-client.js'

const HELLO = JSON.stringify({ t: 'hello', v: 1, role: 'user', auth: { name: 'wire' } })
const call = (id: number, text: string) => JSON.stringify({ t: 'call', id, p: 'echo', d: { text } })
/** Natural-ish text well over the threshold, that deflate shrinks. */
const LONG = 'Are we still meeting at the cafe on Fifth Street tomorrow morning? '.repeat(40)

for (const { name, make } of compressedTransports) {
  describe(`permessage-deflate on ${name}`, () => {
    it('is off by default: no extension is accepted and every frame goes out plain', async () => {
      await using s = await startServer(make())
      await using c = await wireClient(s.port, OFFER)
      expect(c.extension).toBeUndefined()
      c.sendText(HELLO)
      await c.next((m) => m.t === 'welcome')
      c.sendText(call(1, LONG))
      const { msg, frame } = await c.next((m) => m.id === 1)
      expect(msg.d.text).toBe(LONG)
      expect(frame.rsv1).toBe(false)
      expect(frame.wireBytes).toBeGreaterThan(LONG.length)
    })

    it('compresses frames at or over the threshold and sends smaller ones plain', async () => {
      await using s = await startServer(make({ threshold: 512 }))
      await using c = await wireClient(s.port, OFFER)
      expect(c.extension).toMatch(/^permessage-deflate/)
      expect(c.extension).toContain('server_no_context_takeover')
      expect(c.extension).toContain('client_no_context_takeover')
      c.sendText(HELLO)
      const welcome = await c.next((m) => m.t === 'welcome')
      expect(welcome.frame.rsv1).toBe(false) // under the threshold
      c.sendText(call(1, LONG))
      const big = await c.next((m) => m.id === 1)
      expect(big.msg.d.text).toBe(LONG)
      expect(big.frame.rsv1).toBe(true)
      expect(big.frame.wireBytes).toBeLessThan(LONG.length / 4)
      c.sendText(call(2, 'short'))
      const small = await c.next((m) => m.id === 2)
      expect(small.msg.d.text).toBe('short')
      expect(small.frame.rsv1).toBe(false)
      // A client's compressed frame is inflated for the server.
      c.sendText(call(3, LONG), true)
      expect((await c.next((m) => m.id === 3)).msg.d.text).toBe(LONG)
    })

    it('compresses a room broadcast for the members that negotiated it, and sends it plain to the others', async () => {
      await using s = await startServer(make(true))
      await using a = await wireClient(s.port, OFFER)
      await using b = await wireClient(s.port, OFFER)
      await using plain = await wireClient(s.port) // offers nothing
      expect(plain.extension).toBeUndefined()
      for (const c of [a, b, plain]) c.sendText(HELLO)
      const ids = await Promise.all([a, b, plain].map(async (c) => (await c.next((m) => m.t === 'welcome')).msg.conn as string))
      for (const id of ids) s.srv.room('r').add(s.srv.connections.get(id)!)
      s.srv.room('r').broadcast('message', { room: 'r', text: LONG, from: 's' })
      const got = await Promise.all([a, b, plain].map((c) => c.next((m) => m.t === 'event')))
      expect(got.map((g) => g.msg.d.text)).toEqual([LONG, LONG, LONG])
      expect(got.map((g) => g.frame.rsv1)).toEqual([true, true, false])
      // No context takeover: both members got the very same bytes.
      expect(got[0]!.frame.payload.equals(got[1]!.frame.payload)).toBe(true)
      expect(a.bytesIn).toBeLessThan(plain.bytesIn / 2)
    })

    it('compresses topic publishes', async () => {
      await using s = await startServer(make(true))
      await using c = await wireClient(s.port, OFFER)
      c.sendText(HELLO)
      await c.next((m) => m.t === 'welcome')
      c.sendText(JSON.stringify({ t: 'sub', id: 1, n: 'news' }))
      await c.next((m) => m.id === 1)
      s.srv.publish('news', { headline: LONG })
      const { msg, frame } = await c.next((m) => m.t === 'pub')
      expect(msg.d.headline).toBe(LONG)
      expect(frame.rsv1).toBe(true)
    })

    it('serves calls, events, broadcasts and topics to @rt/client over the Node ws client, which negotiates it', async () => {
      const offered: (string | undefined)[] = []
      await using s = await startServer(make({ threshold: 0 }), {
        authenticate: ({ request, auth }) => {
          offered.push(request.headers['sec-websocket-extensions'])
          const n = (auth as { name: string }).name
          return { user: { id: n, name: n } }
        },
      })
      await using client = connect(s.url, 'user')
      const texts: string[] = []
      const news: string[] = []
      client.on('message', (m) => texts.push(m.text))
      await client.subscribe('news', (n) => news.push(n.headline)).ready
      expect(offered[0]).toContain('permessage-deflate')
      expect((await client.call.echo({ text: LONG })).text).toBe(LONG)
      await client.call.notify({})
      s.srv.room('r').add(s.srv.connections.get(client.connId!)!)
      s.srv.room('r').broadcast('message', { room: 'r', text: LONG, from: 's' })
      s.srv.publish('news', { headline: 'compressed' })
      await until(() => texts.length === 2 && news.length === 1, 5_000, 'deliveries')
      expect(texts).toEqual(['hi', LONG])
      expect(news).toEqual(['compressed'])
    })
  })
}

describe('permessage-deflate on ws: the window a client asks for', () => {
  const make = compressedTransports[0]!.make
  it('deflates within server_max_window_bits when a client limits it, and sends plain frames at 8 bits (zlib cannot deflate with 8)', async () => {
    await using s = await startServer(make(true))
    await using full = await wireClient(s.port, OFFER)
    await using small = await wireClient(s.port, 'permessage-deflate; server_max_window_bits=9')
    await using tiny = await wireClient(s.port, 'permessage-deflate; server_max_window_bits=8')
    expect(small.extension).toContain('server_max_window_bits=9')
    for (const c of [full, small, tiny]) c.sendText(HELLO)
    const ids = await Promise.all([full, small, tiny].map(async (c) => (await c.next((m) => m.t === 'welcome')).msg.conn as string))
    for (const id of ids) s.srv.room('r').add(s.srv.connections.get(id)!)
    const block = randomBytes(350).toString('hex') // 700 characters that deflate cannot shrink on their own
    const text = block.repeat(3) // repeats only 700 bytes back: beyond a 512-byte window
    s.srv.room('r').broadcast('message', { room: 'r', text, from: 's' })
    const [a, b, c] = await Promise.all([full, small, tiny].map((x) => x.next((m) => m.t === 'event')))
    expect([a!.frame.rsv1, b!.frame.rsv1, c!.frame.rsv1]).toEqual([true, true, false])
    expect(JSON.parse(inflateMessage(b!.frame.payload, 9).toString()).d.text).toBe(text)
    // Within 512 bytes, the repeats 700 bytes back are out of reach: deflated for that window, not shared.
    expect(b!.frame.wireBytes).toBeGreaterThan(2 * a!.frame.wireBytes)
  })
})
