import { msgpackEncoder } from '@rt/codec-msgpack'
import { defineContract, jsonEncoder, subprotocolOf } from '@rt/contract'
import { createMemoryBus, createMemoryHub, createServer } from '@rt/server'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { codecSocket, counting, msgpackr } from './codecs/raw-codec-socket.js'
import { connect, startServer, until, wsTransport, type TransportFactory } from './harness.js'
import { uwsTransport } from './uws-transport.js'

const MSGPACK = subprotocolOf(msgpackEncoder)
const transports: [string, TransportFactory][] = [
  ['ws', wsTransport],
  ['uWebSockets.js', uwsTransport],
]
const message = { room: 'all', text: 'héllo ☃ 🎉', from: 'srv' }
const news = { headline: 'one frame, two codecs' }

for (const [name, transport] of transports) {
  describe(`JSON and MessagePack clients on one server over ${name}`, () => {
    it('deliver identical payloads to both in one room and one topic, binary frames to MessagePack', async () => {
      await using s = await startServer(transport, {
        encoders: [jsonEncoder, msgpackEncoder],
        onConnection: (conn) => s.srv.room('all').add(conn),
      })
      await using j = connect(s.url, 'user', { auth: { name: 'j' } })
      await using m = connect(s.url, 'user', { auth: { name: 'm' }, encoder: msgpackEncoder })
      const got = { j: [] as unknown[], m: [] as unknown[] }
      for (const [k, c] of [['j', j], ['m', m]] as const) {
        c.on('message', (p) => void got[k].push(['message', p]))
        c.on('dm', (p) => void got[k].push(['dm', p]))
        await c.subscribe('news', (p) => void got[k].push(['news', p])).ready
      }
      await using rawM = await codecSocket(s.url, msgpackEncoder, [MSGPACK])
      await using rawJ = await codecSocket(s.url, jsonEncoder)
      expect(rawM.ws.protocol).toBe(MSGPACK)
      expect(rawJ.ws.protocol).toBe('')
      for (const r of [rawM, rawJ]) {
        await r.hello()
        r.send({ t: 'sub', id: 1, n: 'news' })
        await r.next((f) => f.t === 'result' && f.id === 1)
      }
      await until(() => s.srv.connections.size === 4)

      s.srv.room('all').broadcast('message', message)
      await s.srv.publish('news', news)
      await s.srv.toUser('j').emit('dm', { from: 'srv', text: 'to j' })
      await s.srv.toUser('m').emit('dm', { from: 'srv', text: 'to m' })
      await until(() => got.j.length === 3 && got.m.length === 3)
      expect(got.j).toEqual([['message', message], ['news', news], ['dm', { from: 'srv', text: 'to j' }]])
      expect(got.m).toEqual([['message', message], ['news', news], ['dm', { from: 'srv', text: 'to m' }]])

      // On the wire: MessagePack bytes that msgpackr reads, never JSON text; JSON text for the other.
      const ev = await rawM.next((f) => f.t === 'event')
      const pub = await rawM.next((f) => f.t === 'pub')
      for (const r of [ev, pub]) {
        expect(r.binary).toBe(true)
        expect(r.bytes[0]).not.toBe('{'.charCodeAt(0))
        expect(() => JSON.parse(new TextDecoder().decode(r.bytes))).toThrow()
      }
      expect(msgpackr.unpack(ev.bytes)).toEqual({ t: 'event', n: 'message', d: message })
      expect(msgpackr.unpack(pub.bytes)).toEqual({ t: 'pub', n: 'news', k: '', d: news })
      const evJ = await rawJ.next((f) => f.t === 'event')
      expect(evJ.binary).toBe(false)
      expect(JSON.parse(new TextDecoder().decode(evJ.bytes))).toEqual({ t: 'event', n: 'message', d: message })
      // Each connection on the codec it asked for.
      expect([...s.srv.connections.values()].map((c) => (c as unknown as { encoder: { name: string } }).encoder.name).sort()).toEqual(['json', 'json', 'msgpack', 'msgpack'])
    })

    it('encodes a broadcast once per codec in use: 1 000 mixed sockets in a room and a topic, one JSON and one MessagePack encode each', async () => {
      const json = counting(jsonEncoder)
      const mp = counting(msgpackEncoder)
      await using s = await startServer(transport, {
        encoders: [json.encoder, mp.encoder],
        limits: { heartbeatIntervalMs: 60_000 },
        onConnection: (conn) => s.srv.room('all').add(conn),
      })
      const sockets = await Promise.all(
        Array.from({ length: 1_000 }, async (_, i) => {
          const sock = i % 2 === 0 ? await codecSocket(s.url, jsonEncoder) : await codecSocket(s.url, msgpackEncoder, [MSGPACK])
          await sock.hello({ name: `u${i}` })
          sock.send({ t: 'sub', id: 1, n: 'news' })
          await sock.next((f) => f.t === 'result')
          return sock
        }),
      )
      try {
        await until(() => s.srv.connections.size === 1_000)
        // A room with JSON members only: MessagePack is not encoded for it, though the node serves it.
        const jsonOnly = [...s.srv.connections.values()].filter((c) => (c as unknown as { codec: number }).codec === 0).slice(0, 10)
        for (const c of jsonOnly) s.srv.room('json-only').add(c)
        json.counts.encode = mp.counts.encode = 0
        s.srv.room('json-only').broadcast('message', { ...message, room: 'json-only' })
        expect([json.counts.encode, mp.counts.encode]).toEqual([1, 0])

        json.counts.encode = mp.counts.encode = 0
        s.srv.room('all').broadcast('message', message)
        await s.srv.publish('news', news)
        await until(() => sockets.every((k) => k.got.filter((r) => r.frame.t === 'event' && r.frame.d.room === 'all').length === 1 && k.got.some((r) => r.frame.t === 'pub')), 10_000, 'every socket got both')
        expect(json.counts.encode).toBe(2)
        expect(mp.counts.encode).toBe(2)
        for (const [i, k] of sockets.entries()) {
          const ev = k.got.find((r) => r.frame.t === 'event' && r.frame.d.room === 'all')!
          expect(ev.binary).toBe(i % 2 === 1)
          expect(ev.frame).toEqual({ t: 'event', n: 'message', d: message })
        }
      } finally {
        await Promise.all(sockets.map((k) => k[Symbol.asyncDispose]()))
      }
    }, 30_000)
  })
}

describe('JSON and MessagePack clients in a 2-node cluster on the memory bus', () => {
  for (const [name, transport] of transports) {
    it(`over ${name}: identical payloads, the bus carries JSON, each node transcodes once per message`, async () => {
      const hub = createMemoryHub()
      const codecs = [0, 1].map(() => ({ json: counting(jsonEncoder), mp: counting(msgpackEncoder) }))
      const nodes = await Promise.all(
        codecs.map(async (c) => {
          const s = await startServer(transport, {
            bus: createMemoryBus({ hub }),
            encoders: [c.json.encoder, c.mp.encoder],
            onConnection: (conn) => s.srv.room('all').add(conn),
          })
          return s
        }),
      )
      const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]]
      try {
        const clients = [a, a, b, b, b].map((s, i) => connect(s.url, 'user', { auth: { name: `c${i}` }, ...(i % 2 === 1 && { encoder: msgpackEncoder }) }))
        const got = clients.map(() => [] as unknown[])
        for (const [i, c] of clients.entries()) {
          c.on('message', (p) => void got[i]!.push(['message', p]))
          await c.subscribe('news', (p) => void got[i]!.push(['news', p])).ready
        }
        await until(async () => (await a.srv.room('all').count()) === 5 && (await b.srv.room('all').count()) === 5)
        const peek = await codecSocket(b.url, msgpackEncoder, [MSGPACK])
        await peek.hello({ name: 'peek' })
        await until(async () => (await a.srv.room('all').count()) === 6)
        for (const c of codecs) c.json.counts.encode = c.json.counts.decode = c.mp.counts.encode = 0
        a.srv.room('all').broadcast('message', message)
        await a.srv.publish('news', news)
        await until(() => got.every((g) => g.length === 2))
        for (const g of got) expect(g).toEqual([['message', message], ['news', news]])
        // Node a encodes JSON (for its members and the bus) and MessagePack for its one member on it;
        // node b never encodes JSON: it decodes the bus's frame once and encodes MessagePack once, per message.
        expect([codecs[0]!.json.counts.encode, codecs[0]!.mp.counts.encode]).toEqual([2, 2])
        expect([codecs[1]!.json.counts.encode, codecs[1]!.json.counts.decode, codecs[1]!.mp.counts.encode]).toEqual([0, 2, 2])
        const ev = await peek.next((f) => f.t === 'event')
        expect(ev.binary).toBe(true)
        expect(msgpackr.unpack(ev.bytes)).toEqual({ t: 'event', n: 'message', d: message })
        await peek[Symbol.asyncDispose]()
        await Promise.all(clients.map((c) => c.close()))
      } finally {
        await Promise.all(nodes.map((s) => s.srv.close()))
      }
    })
  }
})

const historyContract = defineContract({
  shared: { serverToClient: { news: { payload: z.object({ n: z.number() }), subscribe: true, history: { size: 100 } } } },
  roles: { user: {} },
})

describe('a history replay to JSON and MessagePack subscribers', () => {
  for (const [name, transport] of transports) {
    it(`over ${name}: encoded once per codec for every subscriber recovering the same position`, async () => {
      const json = counting(jsonEncoder)
      const mp = counting(msgpackEncoder)
      const srv = createServer({ contract: historyContract, transport: transport(), encoders: [json.encoder, mp.encoder], authenticate: () => ({ user: { id: 'u' } }), handlers: {} })
      const { port } = await srv.listen()
      const url = `ws://127.0.0.1:${port}`
      const sockets: Awaited<ReturnType<typeof codecSocket>>[] = []
      try {
        for (let n = 1; n <= 5; n++) await srv.publish('news', { n })
        const first = await codecSocket(url, jsonEncoder)
        sockets.push(first)
        await first.hello()
        first.send({ t: 'sub', id: 1, n: 'news' })
        const { e } = (await first.next((f) => f.t === 'result')).frame.d as { e: string }
        json.counts.encode = mp.counts.encode = 0
        for (let i = 0; i < 10; i++) {
          const sock = i % 2 === 0 ? await codecSocket(url, jsonEncoder) : await codecSocket(url, msgpackEncoder, [MSGPACK])
          sockets.push(sock)
          await sock.hello()
          sock.send({ t: 'sub', id: 2, n: 'news', s: { o: 0, e } })
          expect((await sock.next((f) => f.t === 'result')).frame.d).toMatchObject({ r: true, o: 5 })
        }
        await until(() => sockets.slice(1).every((k) => k.got.filter((r) => r.frame.t === 'pub').length === 5))
        for (const k of sockets.slice(1)) expect(k.got.filter((r) => r.frame.t === 'pub').map((r) => r.frame.d.n)).toEqual([1, 2, 3, 4, 5])
        // Per codec: a welcome and an ack for each of its 5 subscribers, and the 5 replayed publications once.
        expect(json.counts.encode).toBe(5 + 5 + 5)
        expect(mp.counts.encode).toBe(5 + 5 + 5)
      } finally {
        for (const k of sockets) await k[Symbol.asyncDispose]()
        await srv.close()
      }
    })
  }
})
