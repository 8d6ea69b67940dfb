import { randomBytes } from 'node:crypto'
import { connect, type Socket } from 'node:net'
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib'

/** One server→client frame as it came off the TCP stream. */
export interface WireFrame {
  rsv1: boolean
  opcode: number
  /** Payload bytes on the wire (compressed if `rsv1`). */
  wireBytes: number
  payload: Buffer
}

/** RFC 7692: one message deflated on its own, the trailing 00 00 ff ff removed. */
export function deflateMessage(data: Buffer | string): Buffer {
  const out = deflateRawSync(typeof data === 'string' ? Buffer.from(data) : data, { finishFlush: constants.Z_SYNC_FLUSH })
  return out.subarray(0, out.length - 4)
}

/** The inverse of `deflateMessage`, with a window of `windowBits`. */
export function inflateMessage(data: Buffer, windowBits = 15): Buffer {
  return inflateRawSync(Buffer.concat([data, Buffer.from([0, 0, 0xff, 0xff])]), { windowBits, finishFlush: constants.Z_SYNC_FLUSH })
}

/** A masked client frame; `rsv1` marks it compressed. */
export function clientFrame(opcode: number, payload: Buffer, rsv1 = false): Buffer {
  const len = payload.length
  const head = len < 126 ? Buffer.from([0, 0x80 | len]) : len < 65_536 ? Buffer.from([0, 0xfe, len >> 8, len & 0xff]) : Buffer.alloc(10)
  if (len >= 65_536) {
    head[1] = 0xff
    head.writeBigUInt64BE(BigInt(len), 2)
  }
  head[0] = 0x80 | (rsv1 ? 0x40 : 0) | opcode
  const mask = randomBytes(4)
  const body = Buffer.from(payload)
  for (let i = 0; i < body.length; i++) body[i]! ^= mask[i & 3]!
  return Buffer.concat([head, mask, body])
}

/**
 * A WebSocket client over a bare TCP socket: it offers the extensions it is told to, and
 * reports every frame with its RSV1 bit and its size on the wire, which `ws` hides.
 */
export async function wireClient(port: number, extensions?: string) {
  const socket: Socket = connect(port, '127.0.0.1')
  socket.on('error', () => {})
  const frames: WireFrame[] = []
  let bytesIn = 0
  let buf = Buffer.alloc(0)
  let headers = ''
  let closed = false
  const ended = new Promise<void>((r) => socket.once('close', () => ((closed = true), r())))
  const upgraded = new Promise<string>((resolve, reject) => {
    socket.once('close', () => reject(new Error('closed during the handshake')))
    socket.on('data', (chunk: Buffer) => {
      bytesIn += chunk.length
      buf = Buffer.concat([buf, chunk])
      if (!headers) {
        const end = buf.indexOf('\r\n\r\n')
        if (end < 0) return
        headers = buf.subarray(0, end).toString()
        buf = buf.subarray(end + 4)
        resolve(headers)
      }
      parse()
    })
  })
  function parse(): void {
    for (let n = 0; n < 100_000 && buf.length >= 2; n++) {
      const b0 = buf[0]!
      let len = buf[1]! & 0x7f
      let at = 2
      if (len === 126) {
        if (buf.length < 4) return
        len = buf.readUInt16BE(2)
        at = 4
      } else if (len === 127) {
        if (buf.length < 10) return
        len = Number(buf.readBigUInt64BE(2))
        at = 10
      }
      if (buf.length < at + len) return
      frames.push({ rsv1: (b0 & 0x40) !== 0, opcode: b0 & 0x0f, wireBytes: len, payload: Buffer.from(buf.subarray(at, at + len)) })
      buf = buf.subarray(at + len)
    }
  }
  const ext = extensions === undefined ? '' : `Sec-WebSocket-Extensions: ${extensions}\r\n`
  socket.write(
    `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n${ext}\r\n`,
  )
  const response = await upgraded
  return {
    response,
    /** The extension the server accepted, if any. */
    extension: /sec-websocket-extensions: *([^\r\n]*)/i.exec(response)?.[1],
    frames,
    get bytesIn() {
      return bytesIn
    },
    get closed() {
      return closed
    },
    ended,
    write: (data: Buffer) => socket.write(data),
    sendText: (text: string, compressed = false) => socket.write(clientFrame(1, compressed ? deflateMessage(text) : Buffer.from(text), compressed)),
    /** The close frame's code, once one arrived. */
    closeCode: () => {
      const f = frames.find((x) => x.opcode === 8)
      return f && f.payload.length >= 2 ? f.payload.readUInt16BE(0) : undefined
    },
    /** Waits for the first data frame whose decoded JSON matches `pred`; returns it with its frame. */
    async next(pred: (msg: any) => boolean, timeoutMs = 5_000): Promise<{ msg: any; frame: WireFrame }> {
      const end = Date.now() + timeoutMs
      for (let seen = 0; ; ) {
        for (; seen < frames.length; seen++) {
          const frame = frames[seen]!
          if (frame.opcode !== 1) continue
          const msg = JSON.parse((frame.rsv1 ? inflateMessage(frame.payload) : frame.payload).toString())
          if (pred(msg)) return { msg, frame }
        }
        if (closed) throw new Error('socket closed before the frame arrived')
        if (Date.now() > end) throw new Error('timed out waiting for a frame')
        await new Promise((r) => setTimeout(r, 5))
      }
    },
    destroy: () => socket.destroy(),
    [Symbol.asyncDispose]: async () => {
      socket.destroy()
      await ended
    },
  }
}
