// What differs between the transports at the WebSocket level (docs/transports.md, "Transport
// differences"), pinned down, so that a change in either library shows up here.
// RFC 6455 §5.1: "The server MUST close the connection upon receiving a frame that is not
// masked." ws does; uWS cannot be made to (it never reads the mask bit).
import WebSocket from 'ws'
import { randomBytes } from 'node:crypto'
import { connect, type Socket } from 'node:net'
import { CloseCode } from '@rt/contract'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rawSocket } from '../raw.js'
import { startFuzzServer, type FuzzServer, type TransportKind } from './server-process.js'

const HELLO = Buffer.from('{"t":"hello","v":1,"role":"user","auth":{"name":"bare"}}')

/** One client→server frame (FIN set), masked or not. */
function frame(payload: Buffer, masked: boolean, opcode = 1): Buffer {
  if (payload.length >= 126) throw new Error('short frames only')
  const head = Buffer.from([0x80 | opcode, (masked ? 0x80 : 0) | payload.length])
  if (!masked) return Buffer.concat([head, payload])
  const key = randomBytes(4)
  return Buffer.concat([head, key, payload.map((b, i) => b ^ key[i % 4]!)])
}

/** A WebSocket spoken by hand over TCP: what the server sends back, raw. */
async function bareSocket(port: number) {
  const sock: Socket = connect(port, '127.0.0.1')
  let buf = Buffer.alloc(0)
  let ended = false
  sock.on('data', (d) => (buf = Buffer.concat([buf, d])))
  sock.on('error', () => {})
  const closed = new Promise<void>((r) => sock.once('close', () => r(void (ended = true))))
  await new Promise((r) => sock.once('connect', r))
  sock.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`)
  const end = Date.now() + 5_000
  while (buf.indexOf('\r\n\r\n') < 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 5))
  expect(buf.subarray(0, 12).toString()).toBe('HTTP/1.1 101')
  buf = buf.subarray(buf.indexOf('\r\n\r\n') + 4)
  return {
    write: (b: Buffer) => sock.write(b),
    /** Server frames received so far: [opcode, payload]. */
    frames(): [number, Buffer][] {
      const out: [number, Buffer][] = []
      for (let i = 0; i + 2 <= buf.length; ) {
        let len = buf[i + 1]! & 0x7f
        let at = i + 2
        if (len === 126) (len = buf.readUInt16BE(at)), (at += 2)
        else if (len === 127) (len = Number(buf.readBigUInt64BE(at))), (at += 8)
        if (at + len > buf.length) break
        out.push([buf[i]! & 0x0f, buf.subarray(at, at + len)])
        i = at + len
      }
      return out
    },
    closed,
    get ended() {
      return ended
    },
    destroy: () => sock.destroy(),
  }
}

const closeCode = (frames: [number, Buffer][]) => {
  const c = frames.find(([op]) => op === 8)
  return c && c[1].length >= 2 ? c[1].readUInt16BE(0) : undefined
}

function describeUnmasked(kind: TransportKind, expectation: string, check: (srv: FuzzServer, s: Awaited<ReturnType<typeof bareSocket>>) => Promise<void>) {
  describe(`an unmasked client frame over ${kind}`, () => {
    let srv: FuzzServer
    beforeAll(async () => {
      srv = await startFuzzServer(kind, { handshakeTimeoutMs: 500, heartbeatIntervalMs: 100, heartbeatTimeoutMs: 500 })
    })
    afterAll(async () => {
      await srv?.[Symbol.asyncDispose]()
    })

    it(expectation, async () => {
      const s = await bareSocket(srv.port)
      try {
        // A well-behaved neighbour, connected throughout.
        await using other = await rawSocket(srv.url)
        await other.hello('user', { name: 'neighbour' })
        s.write(frame(HELLO, false))
        await check(srv, s)
        other.send({ t: 'call', id: 1, p: 'echo', d: { text: 'fine' } })
        expect(await other.next((f) => f.id === 1)).toEqual({ t: 'result', id: 1, d: { text: 'fine' } })
        const stats = await srv.stats()
        expect([stats.uncaught, stats.unhandled]).toEqual([[], []])
      } finally {
        s.destroy()
      }
    })

    it('serves a masked hello on the same kind of raw socket (the test speaks the protocol right)', async () => {
      const s = await bareSocket(srv.port)
      try {
        s.write(frame(HELLO, true))
        const end = Date.now() + 5_000
        while (!s.frames().some(([op, p]) => op === 1 && JSON.parse(p.toString()).t === 'welcome') && Date.now() < end) await new Promise((r) => setTimeout(r, 10))
        expect(s.frames().map(([op, p]) => op === 1 && JSON.parse(p.toString()).t)).toContain('welcome')
      } finally {
        s.destroy()
      }
    })
  })
}

describeUnmasked('ws', 'is refused: ws closes the connection with 1002 (protocol error), as RFC 6455 requires', async (_srv, s) => {
  await s.closed
  expect(closeCode(s.frames())).toBe(1002)
})

describeUnmasked(
  'uws',
  'goes unseen: uWS reads 4 payload bytes as the mask, the hello is never answered, and only the handshake timeout (4002) ends the connection',
  async (_srv, s) => {
    const end = Date.now() + 5_000
    while (closeCode(s.frames()) === undefined && !s.ended && Date.now() < end) await new Promise((r) => setTimeout(r, 10))
    const frames = s.frames()
    expect(frames.filter(([op]) => op === 1)).toEqual([])
    expect(closeCode(frames)).toBe(CloseCode.HANDSHAKE_TIMEOUT)
  },
)

/** Close codes after a broken frame: [what the client sees, what the server's onDisconnect is told]. */
const BROKEN: Record<TransportKind, Record<string, [number, number]>> = {
  ws: { oversize: [1009, 1009], 'invalid UTF-8 in a text frame': [1007, 1007], 'an unknown opcode': [1002, 1002] },
  // uWS cuts the link on a protocol error (no close frame); the transport sends 1009 itself for oversize.
  uws: { oversize: [1009, 1009], 'invalid UTF-8 in a text frame': [1006, 1006], 'an unknown opcode': [1006, 1006] },
}
const BREAK: Record<string, (ws: WebSocket) => void> = {
  oversize: (ws) => ws.send('x'.repeat(100_000)),
  'invalid UTF-8 in a text frame': (ws) => ws.send(Buffer.from([0x7b, 0xff, 0x7d]), { binary: false }),
  'an unknown opcode': (ws) => (ws as unknown as { _socket: Socket })._socket.write(Buffer.from([0x83, 0x80, 1, 2, 3, 4])),
}

for (const kind of ['ws', 'uws'] as const) {
  describe(`close codes after a broken frame over ${kind}`, () => {
    let srv: FuzzServer
    beforeAll(async () => {
      srv = await startFuzzServer(kind, { maxFrameBytes: 64 * 1024 })
    })
    afterAll(async () => {
      await srv?.[Symbol.asyncDispose]()
    })

    for (const [what, [client, server]] of Object.entries(BROKEN[kind])) {
      it(`${what}: the client sees ${client}, onDisconnect is told ${server}`, async () => {
        const ws = new WebSocket(srv.url, { perMessageDeflate: false })
        ws.on('error', () => {})
        await new Promise((r) => ws.once('open', r))
        ws.send('{"t":"hello","v":1,"role":"user","auth":{"name":"broken"}}')
        await new Promise((r) => ws.once('message', r))
        const before = (await srv.stats()).closes[server] ?? 0
        BREAK[what]!(ws)
        const code = await new Promise<number>((r) => ws.once('close', r))
        expect(code).toBe(client)
        const end = Date.now() + 5_000
        while (((await srv.stats()).closes[server] ?? 0) === before && Date.now() < end) await new Promise((r) => setTimeout(r, 10))
        expect((await srv.stats()).closes[server] ?? 0).toBe(before + 1)
      })
    }
  })
}
