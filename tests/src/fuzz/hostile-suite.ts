// Centrifuge's list of hostile clients, as named tests: each against a server in its own
// process (tests/src/fuzz/fuzz-server.ts), so that its memory is measured without ours.
import WebSocket from 'ws'
import { CloseCode } from '@rt/contract'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rawSocket } from '../raw.js'
import { startFuzzServer, type FuzzServer, type TransportKind } from './server-process.js'

const MiB = 1 << 20
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const hello = (auth: object = { name: 'h' }) => ({ t: 'hello', v: 1, role: 'user', auth })

async function until(fn: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(10)
  }
}

/** The hostile-client list against one transport. */
export function describeHostile(kind: TransportKind) {
  /**
   * The codes a client may see when the server closes it with `code` while it is still sending:
   * uWS shuts the socket right after its close frame, and the kernel resets a socket closed
   * with unread input, which can discard the close frame on the way (the client sees 1006).
   */
  const closedAs = (code: number) => (kind === 'ws' ? [code] : [code, 1006])

  describe(`hostile clients over ${kind}`, () => {
    let srv: FuzzServer
    let hb: FuzzServer
    beforeAll(async () => {
      ;[srv, hb] = await Promise.all([
        startFuzzServer(kind, {
          maxBufferedBytes: MiB,
          handshakeTimeoutMs: 1_000,
          maxSubscriptions: 8,
          maxHandshakeBytes: 64 << 10,
          maxHandshakeBytesTotal: 256 << 10,
          byteRatePerSecond: 256 << 10,
          byteBurst: MiB,
        }),
        startFuzzServer(kind, { heartbeatIntervalMs: 100, heartbeatTimeoutMs: 400 }),
      ])
    })
    afterAll(async () => {
      await srv?.[Symbol.asyncDispose]()
      await hb?.[Symbol.asyncDispose]()
    })

    it('closes a slow reader with 4005 and keeps its memory bounded', async () => {
      const base = await srv.gc()
      const before = base.closes[CloseCode.SLOW_CONSUMER] ?? 0
      await using c = await rawSocket(srv.url)
      await c.hello('user', { name: 'slow' })
      const raw = (c.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket
      raw.pause()
      // 200 MB asked for, at a socket that reads nothing.
      c.send({ t: 'call', id: 1, p: 'burst', d: { count: 2_000, size: 100_000 } })
      let peak = base.rss
      await until(
        async () => {
          const s = await srv.stats()
          peak = Math.max(peak, s.rss)
          return (s.closes[CloseCode.SLOW_CONSUMER] ?? 0) > before
        },
        10_000,
        'the 4005 close',
      )
      expect(peak - base.rss).toBeLessThan(96 * MiB)
      raw.resume()
      const { code } = await c.closed()
      expect(closedAs(CloseCode.SLOW_CONSUMER)).toContain(code)
      const after = await srv.gc()
      expect(after.heapUsed - base.heapUsed).toBeLessThan(8 * MiB)
    })

    it('closes a client that never answers pings with 4004', async () => {
      await using c = await rawSocket(hb.url)
      await c.hello('user', { name: 'mute' })
      await c.next((f) => f.t === 'ping', 2_000)
      const { code } = await c.closed()
      expect(code).toBe(CloseCode.HEARTBEAT_TIMEOUT)
    })

    it('closes 3 000 silent sockets (no hello) with 4002, and its memory returns', async () => {
      /** Opens 3 000 sockets that never send anything; resolves with the close codes they saw. */
      const wave = async () => {
        const codes = new Map<number, number>()
        const done: Promise<void>[] = []
        for (let i = 0; i < 3_000; i++) {
          const ws = new WebSocket(srv.url, { perMessageDeflate: false })
          ws.on('error', () => {})
          done.push(new Promise((r) => ws.once('close', (code) => r(void codes.set(code, (codes.get(code) ?? 0) + 1)))))
          // A few hundred upgrades in flight at a time: the kernel's accept queue is not the subject.
          if (i % 250 === 249) await sleep(20)
        }
        await Promise.all(done)
        return Object.fromEntries(codes)
      }
      const base = await srv.gc()
      expect(await wave()).toEqual({ [CloseCode.HANDSHAKE_TIMEOUT]: 3_000 })
      const first = await srv.gc()
      // ws and node:http keep some pools sized by the peak (measured: ~12 MiB once, flat after).
      expect(first.heapUsed - base.heapUsed).toBeLessThan(32 * MiB)
      expect(first.connections).toBe(0)
      // A second wave must cost nothing more: nothing is kept per socket.
      expect(await wave()).toEqual({ [CloseCode.HANDSHAKE_TIMEOUT]: 3_000 })
      const second = await srv.gc()
      expect(second.heapUsed - first.heapUsed).toBeLessThan(4 * MiB)
    }, 60_000)

    it('closes a ping flood with 4006, and the other connections are not affected', async () => {
      await using other = await rawSocket(srv.url)
      await other.hello('user', { name: 'other' })
      await using c = await rawSocket(srv.url)
      await c.hello('user', { name: 'flood' })
      const before = (await srv.stats()).closes[CloseCode.RATE_LIMITED] ?? 0
      for (let i = 0; i < 5_000; i++) c.send({ t: 'ping' })
      const { code } = await c.closed()
      expect(closedAs(CloseCode.RATE_LIMITED)).toContain(code)
      await until(async () => ((await srv.stats()).closes[CloseCode.RATE_LIMITED] ?? 0) === before + 1, 5_000, 'the server-side 4006')
      // The default burst is 400 frames: the flood got no more pongs than that (and a margin for refill).
      expect(c.frames.filter((f) => f.t === 'pong').length).toBeLessThan(600)
      other.send({ t: 'call', id: 7, p: 'echo', d: { text: 'still here' } })
      expect(await other.next((f) => f.id === 7)).toEqual({ t: 'result', id: 7, d: { text: 'still here' } })
    })

    it('meters malformed frames in bytes: 99 garbage frames and one valid, repeated, are closed with 4006', async () => {
      const before = (await srv.stats()).closes[CloseCode.RATE_LIMITED] ?? 0
      await using c = await rawSocket(srv.url)
      await c.hello('user', { name: 'garbage' })
      // The valid frame resets the malformed-frame strikes: only the byte meter can stop this.
      const garbage = `{${'g'.repeat(10_000)}`
      let rounds = 0
      for (; rounds < 40 && !c.isClosed; rounds++) {
        for (let i = 0; i < 99; i++) c.send(garbage)
        c.send({ t: 'ping' })
        await sleep(20)
      }
      // byteBurst is 1 MiB and the sustained rate 256 KiB/s: ~1 MB a round, closed within a few.
      expect(rounds).toBeLessThan(10)
      const { code } = await c.closed()
      expect(closedAs(CloseCode.RATE_LIMITED)).toContain(code)
      await until(async () => ((await srv.stats()).closes[CloseCode.RATE_LIMITED] ?? 0) === before + 1, 5_000, 'the server-side 4006')
    })

    it('refuses subscriptions over maxSubscriptions with RATE_LIMITED, keeping the connection', async () => {
      await using c = await rawSocket(srv.url)
      await c.hello('user', { name: 'greedy' })
      for (let i = 0; i < 10; i++) c.send({ t: 'sub', id: i, n: 'feed', q: { k: i } })
      const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => c.next((f) => f.id === i)))
      expect(answers.filter((a) => a.t === 'result')).toHaveLength(8)
      expect(answers.filter((a) => a.t === 'error').map((a) => a.code)).toEqual(['RATE_LIMITED', 'RATE_LIMITED'])
      // One freed, one more taken.
      const first = answers.find((a) => a.t === 'result')
      c.send({ t: 'unsub', n: 'feed', k: first.d.k })
      c.send({ t: 'sub', id: 20, n: 'feed', q: { k: 20 } })
      expect((await c.next((f) => f.id === 20)).t).toBe('result')
      expect(c.isClosed).toBe(false)
    })

    it('answers frames pipelined behind a slow authenticate after it, in order', async () => {
      await using c = await rawSocket(srv.url)
      c.send(hello({ name: 'pipe', delayMs: 300 }))
      for (let i = 0; i < 50; i++) c.send({ t: 'call', id: i, p: 'echo', d: { text: `m${i}`, n: i } })
      await until(() => c.frames.filter((f) => f.t === 'result').length === 50, 5_000, '50 answers')
      expect(c.frames[0].t).toBe('welcome')
      expect(c.frames.slice(1).map((f) => f.d.n)).toEqual(Array.from({ length: 50 }, (_, i) => i))
    })

    it('closes a socket that pipelines more than maxHandshakeBytes during authenticate with 4000', async () => {
      const base = await srv.gc()
      await using c = await rawSocket(srv.url)
      c.send(hello({ name: 'hoard', delayMs: 800 }))
      // 256 KiB of valid calls behind a slow authenticate: 4 × the per-socket bound.
      const pad = 'p'.repeat(4_000)
      for (let i = 0; i < 64; i++) c.send({ t: 'call', id: i, p: 'echo', d: { text: pad } })
      const { code } = await c.closed()
      expect(closedAs(CloseCode.PROTOCOL_ERROR)).toContain(code)
      expect(c.frames.filter((f) => f.t === 'welcome')).toEqual([])
      const after = await srv.gc()
      expect(after.heapUsed - base.heapUsed).toBeLessThan(4 * MiB)
    })

    it('bounds the bytes held across all authenticating sockets: the one that would go over is closed with 1013', async () => {
      // 6 sockets × 60 KiB held, under the per-socket 64 KiB, over the 256 KiB total.
      const pad = 'p'.repeat(3_000)
      const socks = await Promise.all(Array.from({ length: 6 }, () => rawSocket(srv.url)))
      try {
        for (const [k, c] of socks.entries()) {
          c.send(hello({ name: `held${k}`, delayMs: 800 }))
          for (let i = 0; i < 20; i++) c.send({ t: 'call', id: i, p: 'echo', d: { text: pad } })
          await sleep(30)
        }
        // Each is either admitted (all 20 calls answered) or refused.
        await until(() => socks.every((c) => c.isClosed || c.frames.filter((f) => f.t === 'result').length === 20), 5_000, 'every socket settled')
        const closed = socks.filter((c) => c.isClosed)
        expect(closed.length).toBeGreaterThanOrEqual(1)
        for (const c of closed) {
          expect(closedAs(CloseCode.TRY_AGAIN_LATER)).toContain((await c.closed()).code)
          expect(c.frames.filter((f) => f.t === 'welcome')).toEqual([])
        }
        expect(socks.length - closed.length).toBeGreaterThanOrEqual(3)
      } finally {
        await Promise.all(socks.map((c) => c[Symbol.asyncDispose]()))
      }
    })
  })
}
