import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { CloseCode } from '@rt/contract'
import { describe, expect, it } from 'vitest'
import { connect, startServer, until } from './harness.js'
import { OFFER, compressedTransports } from './compression/transports.js'
import { clientFrame, deflateMessage, wireClient } from './compression/wire-client.js'

const HELLO = JSON.stringify({ t: 'hello', v: 1, role: 'user', auth: { name: 'bomb' } })
const MAX_FRAME = 64 * 1024

/** A call whose text is `size` spaces: a frame of a few hundred bytes on the wire that inflates to `size`. */
const bomb = (size: number) => deflateMessage(`{"t":"call","id":1,"p":"echo","d":{"text":"${' '.repeat(size)}"}}`)

for (const { name, make } of compressedTransports) {
  describe(`inflated size on ${name} with compression on`, () => {
    /** A raw socket that offered permessage-deflate and is past its hello. */
    async function greeted(port: number) {
      const c = await wireClient(port, OFFER)
      c.sendText(HELLO)
      await c.next((m) => m.t === 'welcome')
      return c
    }

    async function server() {
      const codes: number[] = []
      const s = await startServer(make(true), { limits: { maxFrameBytes: MAX_FRAME }, onDisconnect: (_c, _ctx, r) => void codes.push(r.code) })
      const other = connect(s.url, 'user', { auth: { name: 'other' } })
      await other.ready()
      return { s, other, codes }
    }

    it('closes with 1009 a frame that inflates just past maxFrameBytes; other connections carry on', async () => {
      const { s, other, codes } = await server()
      await using _s = s
      await using _o = other
      await using c = await greeted(s.port)
      const z = bomb(MAX_FRAME + 10)
      expect(z.length).toBeLessThan(1024)
      c.write(clientFrame(1, z, true))
      await c.ended
      expect(c.closeCode()).toBe(CloseCode.MESSAGE_TOO_BIG)
      await until(() => codes.includes(CloseCode.MESSAGE_TOO_BIG), 5_000, 'onDisconnect')
      expect((await other.call.echo({ text: 'still here' })).text).toBe('still here')
    })

    it('stops inflating a decompression bomb (a few KiB that inflate to 16 MiB) at the limit: 1009, the process and other connections unharmed', async () => {
      const { s, other, codes } = await server()
      await using _s = s
      await using _o = other
      await using c = await greeted(s.port)
      const z = bomb(16 << 20)
      expect(z.length).toBeLessThan(MAX_FRAME) // under the limit on the wire
      const heap = process.memoryUsage().rss
      c.write(clientFrame(1, z, true))
      await c.ended
      // ws sends the 1009 close frame; uWS cuts the link past twice the limit (see docs/transports.md).
      if (name === 'ws') expect(c.closeCode()).toBe(CloseCode.MESSAGE_TOO_BIG)
      await until(() => codes.includes(CloseCode.MESSAGE_TOO_BIG), 5_000, 'onDisconnect')
      expect(process.memoryUsage().rss - heap).toBeLessThan(12 << 20) // never held the 16 MiB
      expect((await other.call.echo({ text: 'still here' })).text).toBe('still here')
      await using again = await greeted(s.port)
    })

    it('closes a compressed frame that does not inflate: 1007 on ws; uWS cuts it and reports 1009', async () => {
      const { s, other, codes } = await server()
      await using _s = s
      await using _o = other
      await using c = await greeted(s.port)
      c.write(clientFrame(1, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00, 0x13]), true)) // an invalid block type
      await c.ended
      const expected = name === 'ws' ? 1007 : CloseCode.MESSAGE_TOO_BIG
      if (name === 'ws') expect(c.closeCode()).toBe(expected)
      else expect(c.closeCode()).toBeUndefined()
      await until(() => codes.length > 1 || codes.includes(expected), 5_000, 'onDisconnect')
      expect(codes).toEqual([expected])
      expect((await other.call.echo({ text: 'still here' })).text).toBe('still here')
    })

    it('survives random compressed and garbage frames with RSV1 set, and a second connection never notices (fast-check)', async () => {
      const { s, other } = await server()
      await using _s = s
      await using _o = other
      const payload = fc.oneof(
        fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)), // garbage deflate data
        fc.string({ maxLength: 300 }).map((t) => deflateMessage(t)), // valid deflate, random text
        fc.record({ t: fc.constantFrom('call', 'sub', 'ping', 'x'), id: fc.nat(), p: fc.constantFrom('echo', 'ping'), d: fc.anything() }).map((m) => deflateMessage(JSON.stringify(m))),
        fc.nat({ max: 4 * MAX_FRAME }).map((n) => bomb(n)),
        fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.concat([deflateMessage('{"t":"ping"}'), Buffer.from(b)])), // valid, then trailing junk
      )
      await fc.assert(
        fc.asyncProperty(fc.boolean(), fc.array(fc.tuple(fc.constantFrom(1, 2), payload), { minLength: 1, maxLength: 4 }), async (hello, frames) => {
          await using c = await wireClient(s.port, OFFER)
          if (hello) {
            c.sendText(HELLO)
            await c.next((m) => m.t === 'welcome')
          }
          for (const [opcode, z] of frames) c.write(clientFrame(opcode, z, true))
          c.write(clientFrame(1, randomBytes(8), false)) // and a broken plain frame after
          const n = Math.floor(Math.random() * 1e9)
          expect((await other.call.echo({ text: 'ok', n })).n).toBe(n)
        }),
        { numRuns: 40 },
      )
      expect(s.errors).toEqual([])
      await using last = await greeted(s.port)
    })
  })
}
