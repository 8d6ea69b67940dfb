import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { CloseCode, RtError, defineContract, jsonEncoder, type Encoder, type Frame } from '@rt/contract'
import { createServer, type Limits } from '@rt/server'
import { connect, defaultHandlers, sleep, startServer, until, type TransportFactory } from '../harness.js'
import { rawSocket } from '../raw.js'

type Raw = Awaited<ReturnType<typeof rawSocket>>

// Params and inputs that accept anything a client sends, and a recursive schema (zod recurses).
type Tree = Tree[]
const tree: z.ZodType<Tree> = z.lazy(() => z.array(tree))
// A schema with a bug: it throws on one value instead of reporting an issue.
const picky = z.string().refine((v) => {
  if (v === 'boom') throw new TypeError('schema bug')
  return true
})
const anyContract = defineContract({
  shared: {
    serverToClient: {
      blob: { payload: z.object({ n: z.number() }), subscribe: true, params: z.unknown() },
      fussy: { payload: z.object({ n: z.number() }), subscribe: true, params: picky },
    },
    clientToServer: {
      take: { input: z.unknown(), output: z.object({ ok: z.boolean() }) },
      deep: { input: tree, output: z.object({ ok: z.boolean() }) },
      picky: { input: picky, output: z.object({ ok: z.boolean() }) },
    },
  },
  roles: { user: {} },
})

/** A server on `anyContract`, reporting to `errors`. */
async function startAny(transport: TransportFactory, limits: Partial<Limits> = {}) {
  const errors: unknown[] = []
  const srv = createServer({
    contract: anyContract,
    transport: transport(),
    authenticate: () => ({ user: { id: 'u' } }),
    handlers: { shared: { take: () => ({ ok: true }), deep: () => ({ ok: true }), picky: () => ({ ok: true }) } },
    onError: (e) => void errors.push(e),
    limits,
  })
  const { port } = await srv.listen()
  return { srv, errors, url: `ws://127.0.0.1:${port}`, [Symbol.asyncDispose]: () => srv.close() }
}

/** An encoder that counts the characters/bytes it is asked to decode. */
function countingEncoder() {
  const counter = { decoded: 0 }
  const encoder: Encoder = {
    ...jsonEncoder,
    encode: (f) => jsonEncoder.encode(f),
    decode: (f: Frame) => {
      counter.decoded += typeof f === 'string' ? f.length : f.byteLength
      return jsonEncoder.decode(f)
    },
  }
  return { encoder, counter }
}

const callId = (() => {
  let n = 1_000
  return () => ++n
})()

/** Sends a call on a raw socket and waits for its answer. */
async function rawCall(raw: Raw, p: string, d: unknown): Promise<any> {
  const id = callId()
  raw.send({ t: 'call', id, p, d })
  return raw.next((f) => f.id === id)
}

const deepArray = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`
// Strings of any UTF-16 code units: lone surrogates included.
const utf16 = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 40 })

/** Hostile input: whatever one connection sends costs at most that connection. */
export function describeHardening(name: string, transport: TransportFactory) {
  describe(`hostile input over ${name}`, () => {
    it('survives an unsub whose stream key holds a lone surrogate, after welcome and pipelined behind hello', async () => {
      await using s = await startServer(transport)
      await using other = connect(s.url, 'user', { auth: { name: 'other' } })
      await other.ready()
      await using a = await rawSocket(s.url)
      await a.hello()
      a.send({ t: 'unsub', n: 'news', k: '\ud800' })
      expect((await rawCall(a, 'ping', {})).t).toBe('result')
      await using b = await rawSocket(s.url)
      b.send({ t: 'hello', v: 1, role: 'user', auth: { name: 'b' } })
      b.send({ t: 'unsub', n: 'news', k: '\udfff\ud800x' })
      await b.next((f) => f.t === 'welcome')
      expect((await rawCall(b, 'ping', {})).t).toBe('result')
      expect((await other.call.echo({ text: 'still here' })).text).toBe('still here')
      expect(s.errors).toEqual([])
    })

    it('takes room names with lone surrogates as rooms of their own, never INTERNAL', async () => {
      const ref: { srv?: { room(n: string): { add(c: unknown): void; size: number; broadcast(e: string, p: unknown): void } } } = {}
      const handlers = defaultHandlers()
      await using s = await startServer(transport, {
        handlers: {
          ...handlers,
          user: {
            ...handlers.user,
            joinRoom: ({ room }, _ctx, conn) => {
              ref.srv!.room(room).add(conn)
              return { members: ref.srv!.room(room).size }
            },
          },
        },
      })
      ref.srv = s.srv as never
      await using a = await rawSocket(s.url)
      await a.hello()
      for (const room of ['r\ud800', 'r\udc00', 'r\ufffd', '\ud800\ud800']) {
        expect(await rawCall(a, 'joinRoom', { room })).toMatchObject({ t: 'result', d: { members: 1 } })
      }
      s.srv.room('r\ud800').broadcast('message', { room: 'r\ud800', text: 'lone', from: 's' })
      expect((await a.next((f) => f.t === 'event')).d.text).toBe('lone')
      expect(s.errors).toEqual([])
    })

    it('answers any string as an unsub key, topic, procedure or room name without an INTERNAL or a crash (property)', async () => {
      await using s = await startServer(transport, { limits: { rateBurst: 10_000, ratePerSecond: 10_000 } })
      await using a = await rawSocket(s.url)
      await a.hello()
      await fc.assert(
        fc.asyncProperty(utf16, utf16, async (x, y) => {
          a.send({ t: 'unsub', n: 'news', k: x })
          a.send({ t: 'unsub', n: x, k: y })
          a.send({ t: 'sub', id: callId(), n: x })
          const answers = await Promise.all([rawCall(a, x || 'p', {}), rawCall(a, 'joinRoom', { room: x })])
          for (const f of answers) expect(f.code).not.toBe('INTERNAL')
        }),
        { numRuns: 60 },
      )
      const subs = a.frames.filter((f) => f.t === 'error')
      expect(subs.every((f) => f.code !== 'INTERNAL')).toBe(true)
      expect(s.errors).toEqual([])
    })

    it('turns an exception while handling a frame into an answer to that connection only (INTERNAL, or 4000 when no answer can be encoded)', async () => {
      const encoder: Encoder = {
        ...jsonEncoder,
        encode: (f) => {
          if ((f as { id?: unknown }).id === 13 || (f as { message?: unknown }).message === 'Already authenticated') throw new Error('encoder bug')
          return jsonEncoder.encode(f)
        },
        decode: (f) => jsonEncoder.decode(f),
      }
      await using s = await startServer(transport, { encoder })
      await using other = connect(s.url, 'user', { auth: { name: 'other' } })
      await other.ready()
      // Async path (a call), replayed after the handshake.
      await using a = await rawSocket(s.url)
      a.send({ t: 'hello', v: 1, role: 'user', auth: { name: 'a' } })
      a.send({ t: 'call', id: 13, p: 'ping', d: {} })
      expect((await a.closed()).code).toBe(CloseCode.PROTOCOL_ERROR)
      // Sync path: answered INTERNAL without an id, and the connection goes on.
      await using b = await rawSocket(s.url)
      await b.hello()
      b.send({ t: 'hello', v: 1, role: 'user', auth: {} })
      expect(await b.next((f) => f.t === 'error')).toEqual({ t: 'error', code: 'INTERNAL', message: 'Internal server error' })
      expect((await rawCall(b, 'ping', {})).t).toBe('result')
      expect((await other.call.echo({ text: 'fine' })).text).toBe('fine')
      expect(s.errors.length).toBeGreaterThanOrEqual(2)
      expect(s.errors.every((e) => e instanceof Error && /encoder bug/.test(e.message))).toBe(true)
    })

    it('closes a hello with a long non-ASCII role with 4001, its reason cut to fit a close frame', async () => {
      await using s = await startServer(transport)
      await using a = await rawSocket(s.url)
      a.send({ t: 'hello', v: 1, role: 'é'.repeat(200), auth: {} })
      const closed = await a.closed()
      expect(closed.code).toBe(CloseCode.UNAUTHORIZED)
      expect(closed.reason.startsWith('unknown role "éé')).toBe(true)
      expect(Buffer.byteLength(closed.reason)).toBeLessThanOrEqual(123)
      await using b = await rawSocket(s.url)
      b.send({ t: 'hello', v: 1, role: '\ud800'.repeat(200), auth: {} })
      expect((await b.closed()).code).toBe(CloseCode.UNAUTHORIZED)
      expect(s.errors).toEqual([])
    })

    it('answers 20 000-deep params and inputs with BAD_REQUEST, not INTERNAL', async () => {
      await using s = await startAny(transport)
      await using a = await rawSocket(s.url)
      await a.hello()
      a.send(`{"t":"sub","id":1,"n":"blob","q":${deepArray(20_000)}}`)
      expect(await a.next((f) => f.id === 1)).toMatchObject({ t: 'error', code: 'BAD_REQUEST' })
      a.send(`{"t":"call","id":2,"p":"deep","d":${deepArray(20_000)}}`)
      expect(await a.next((f) => f.id === 2)).toMatchObject({ t: 'error', code: 'BAD_REQUEST' })
      a.send(`{"t":"call","id":3,"p":"take","d":${deepArray(20_000)}}`)
      expect(await a.next((f) => f.id === 3)).toMatchObject({ t: 'error', code: 'BAD_REQUEST' })
      // limits.maxInputDepth (128) levels pass, one more is refused before any schema runs.
      expect((await rawCall(a, 'deep', JSON.parse(deepArray(128)))).t).toBe('result')
      expect(await rawCall(a, 'deep', JSON.parse(deepArray(129)))).toMatchObject({ code: 'BAD_REQUEST', message: 'Input nested deeper than 128 levels' })
      a.send({ t: 'sub', id: 4, n: 'blob', q: JSON.parse(deepArray(128)) })
      expect(await a.next((f) => f.id === 4)).toMatchObject({ t: 'result' })
      expect(s.errors.filter((e) => !(e instanceof RtError && e.code !== 'INTERNAL'))).toEqual([])
    })

    it('answers BAD_REQUEST when an input or params schema throws on what a client sent, and reports it', async () => {
      await using s = await startAny(transport)
      await using a = await rawSocket(s.url)
      await a.hello()
      expect(await rawCall(a, 'picky', 'boom')).toMatchObject({ t: 'error', code: 'BAD_REQUEST', message: 'Invalid input' })
      expect((await rawCall(a, 'picky', 'fine')).t).toBe('result')
      a.send({ t: 'sub', id: 9, n: 'fussy', q: 'boom' })
      expect(await a.next((f) => f.id === 9)).toMatchObject({ t: 'error', code: 'BAD_REQUEST', message: 'Invalid params' })
      expect(s.errors).toHaveLength(2)
      expect(s.errors[0]).toMatchObject({ code: 'BAD_REQUEST', message: 'Input schema of "picky" threw', cause: expect.any(TypeError) })
      expect(s.errors[1]).toMatchObject({ code: 'BAD_REQUEST', message: 'Params schema of "fussy" threw', cause: expect.any(TypeError) })
    })

    it('answers any params a client sends with a result or a 4xx code (property)', async () => {
      await using s = await startAny(transport, { rateBurst: 10_000, ratePerSecond: 10_000, maxSubscriptions: 100_000 })
      await using a = await rawSocket(s.url)
      await a.hello()
      const nested = fc.integer({ min: 1, max: 3_000 }).map((d) => JSON.parse(deepArray(d)) as unknown)
      await fc.assert(
        fc.asyncProperty(fc.oneof(fc.jsonValue({ maxDepth: 6 }), nested), async (q) => {
          const id = callId()
          a.send({ t: 'sub', id, n: 'blob', q })
          const f = await a.next((x) => x.id === id)
          if (f.t === 'error') expect(['BAD_REQUEST', 'PAYLOAD_TOO_LARGE']).toContain(f.code)
        }),
        { numRuns: 80 },
      )
      expect(s.errors).toEqual([])
    })

    it('bounds the bytes held for a socket while authenticate runs (4000 over 64 KiB)', async () => {
      await using s = await startServer(transport, {
        authenticate: async () => {
          await sleep(300)
          return { user: { id: 'slow', name: 'slow' } }
        },
      })
      await using a = await rawSocket(s.url)
      a.send({ t: 'hello', v: 1, role: 'user', auth: {} })
      const pad = 'x'.repeat(8 * 1024)
      for (let i = 0; i < 9; i++) a.send({ t: 'call', id: i, p: 'echo', d: { text: pad } })
      const closed = await a.closed()
      expect(closed.code).toBe(CloseCode.PROTOCOL_ERROR)
      // Under the bound, the held frames run once authenticated.
      await using b = await rawSocket(s.url)
      b.send({ t: 'hello', v: 1, role: 'user', auth: {} })
      for (let i = 0; i < 5; i++) b.send({ t: 'call', id: i, p: 'echo', d: { text: pad } })
      for (let i = 0; i < 5; i++) expect((await b.next((f) => f.id === i)).t).toBe('result')
    })

    it('bounds the bytes held across all handshaking sockets (1013 to the one over)', async () => {
      let release!: () => void
      const gate = new Promise<void>((r) => (release = r))
      await using s = await startServer(transport, {
        limits: { maxHandshakeBytes: 70_000, maxHandshakeBytesTotal: 100_000 },
        authenticate: async () => {
          await gate
          return { user: { id: 'slow', name: 'slow' } }
        },
      })
      const pad = 'x'.repeat(50_000)
      await using a = await rawSocket(s.url)
      a.send({ t: 'hello', v: 1, role: 'user', auth: {} })
      a.send({ t: 'call', id: 1, p: 'echo', d: { text: pad.slice(0, 10_000) } })
      a.send({ t: 'call', id: 2, p: 'ping', d: { pad } })
      await sleep(100)
      await using b = await rawSocket(s.url)
      b.send({ t: 'hello', v: 1, role: 'user', auth: {} })
      b.send({ t: 'call', id: 1, p: 'ping', d: { pad } })
      expect((await b.closed()).code).toBe(CloseCode.TRY_AGAIN_LATER)
      release()
      expect((await a.next((f) => f.id === 1)).t).toBe('result')
      expect(a.isClosed).toBe(false)
    })

    it('refuses upgrades over the handshakes-in-flight, per-node and per-IP limits with 503 / 503 / 429', async () => {
      {
        await using s = await startServer(transport, { limits: { maxHandshakes: 2 } })
        await using a = await rawSocket(s.url)
        await using b = await rawSocket(s.url)
        await expect(rawSocket(s.url)).rejects.toMatchObject({ status: 503 })
        await a.hello()
        await using c = await rawSocket(s.url) // a finished its handshake: room for one more
        expect(c.isClosed).toBe(false)
        void b
      }
      {
        await using s = await startServer(transport, { limits: { maxConnections: 2 } })
        await using a = await rawSocket(s.url)
        await a.hello()
        await using b = await rawSocket(s.url)
        await expect(rawSocket(s.url)).rejects.toMatchObject({ status: 503 })
        await b[Symbol.asyncDispose]()
        await until(async () => {
          const c = await rawSocket(s.url).catch(() => undefined)
          await c?.[Symbol.asyncDispose]()
          return c !== undefined
        })
      }
      {
        await using s = await startServer(transport, { limits: { maxConnectionsPerIp: 1 } })
        await using a = await rawSocket(s.url)
        await a.hello()
        await expect(rawSocket(s.url)).rejects.toMatchObject({ status: 429 })
        await a[Symbol.asyncDispose]()
        await until(async () => {
          const c = await rawSocket(s.url).catch(() => undefined)
          await c?.[Symbol.asyncDispose]()
          return c !== undefined
        })
      }
    })

    it('meters inbound bytes: 99 malformed 100 KB frames + 1 valid, repeated, close with 4006 well before 200 MB are parsed', async () => {
      const { encoder, counter } = countingEncoder()
      await using s = await startServer(transport, { encoder })
      await using a = await rawSocket(s.url)
      await a.hello()
      const junk = `{${'x'.repeat(100_000)}`
      let sent = 0
      for (let round = 0; round < 20 && !a.isClosed; round++) {
        for (let i = 0; i < 99; i++) a.ws.send(junk)
        a.send({ t: 'ping' })
        sent += 100 * 100_000
        while (a.ws.bufferedAmount > 4 << 20 && !a.isClosed) await sleep(1)
      }
      const closed = await Promise.race([a.closed(), sleep(5_000).then(() => undefined)])
      expect(closed?.code).toBe(CloseCode.RATE_LIMITED)
      expect(counter.decoded).toBeLessThan(40 << 20)
      expect(sent).toBeGreaterThan(counter.decoded)
    })

    it('counts only calls that did not answer synchronously: a 1 000-call burst of sync calls is answered in full', async () => {
      await using s = await startServer(transport, { limits: { rateBurst: 5_000, ratePerSecond: 5_000 } })
      await using a = await rawSocket(s.url)
      await a.hello()
      for (let i = 0; i < 1_000; i++) a.send({ t: 'call', id: i, p: 'echo', d: { text: 'x' } })
      await until(() => a.frames.length >= 1_000, 10_000, '1 000 answers')
      expect(a.frames.filter((f) => f.t === 'result').length).toBe(1_000)
      // Async calls count while they run, on every transport alike.
      for (let i = 0; i < 100; i++) a.send({ t: 'call', id: 5_000 + i, p: 'fail', d: { kind: 'slow' } })
      await until(() => a.frames.length >= 1_100, 10_000, '100 answers')
      const late = a.frames.slice(1_000)
      expect(late.filter((f) => f.t === 'result').length).toBe(64)
      expect(late.filter((f) => f.code === 'RATE_LIMITED').length).toBe(36)
    })

    it('answers INTERNAL and reports to onError when a handler emits outside its role, broadcasts a role-only event or emits a bad payload', async () => {
      const ref: { srv?: any } = {}
      let mode = ''
      const handlers = defaultHandlers()
      const reports: [string, string, string | undefined][] = []
      await using s = await startServer(transport, {
        onError: (e, ctx) => void reports.push([String(e), ctx.where, ctx.procedure]),
        handlers: {
          ...handlers,
          user: {
            ...handlers.user,
            notify: async (_i, _ctx, conn) => {
              if (mode === 'misspelt') conn.emit('mesage' as never, {} as never)
              if (mode === 'room') ref.srv.room('r').broadcast('alert', { level: 'info', text: 'x' })
              if (mode === 'payload') conn.emit('message', { room: 1 } as never)
              if (mode === 'toConn') await ref.srv.toConn(conn.id).emit('alert', { level: 'info', text: 'x' })
              return { ok: true }
            },
          },
        },
      })
      ref.srv = s.srv
      await using client = connect(s.url, 'user')
      await client.ready()
      for (const m of ['misspelt', 'room', 'payload', 'toConn']) {
        mode = m
        const err = (await client.call.notify({}).catch((e: unknown) => e)) as RtError
        expect(err, m).toBeInstanceOf(RtError)
        expect([m, err.code, err.message]).toEqual([m, 'INTERNAL', 'Internal server error'])
      }
      expect(reports.map(([, where, procedure]) => [where, procedure])).toEqual(Array(4).fill(['handler', 'notify']))
      expect(reports[0]![0]).toMatch(/mesage/)
      expect(reports[1]![0]).toMatch(/alert/)
      expect(reports[2]![0]).toMatch(/does not match/)
      expect(reports[3]![0]).toMatch(/alert/)
      // Outside a call, the server code that pushed gets the error, as before.
      const conn = s.srv.connections.get(client.connId!)!
      expect(() => conn.emit('mesage' as never, {} as never)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }))
      expect(() => conn.emit('message', { room: 1 } as never)).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }))
    })
  })
}
