import { randomBytes } from 'node:crypto'
import { connect, type Socket } from 'node:net'
import { constants, deflateRawSync } from 'node:zlib'

/** A masked client text frame (under 64 KiB), deflated (RSV1) if `compress`. */
function textFrame(text: string, compress: boolean): Buffer {
  const z = compress ? deflateRawSync(text, { finishFlush: constants.Z_SYNC_FLUSH }) : undefined
  const body = z ? Buffer.from(z.subarray(0, z.length - 4)) : Buffer.from(text)
  const mask = randomBytes(4)
  for (let i = 0; i < body.length; i++) body[i]! ^= mask[i & 3]!
  const b0 = compress ? 0xc1 : 0x81
  const head = body.length < 126 ? Buffer.from([b0, 0x80 | body.length]) : Buffer.from([b0, 0xfe, body.length >> 8, body.length & 0xff])
  return Buffer.concat([head, mask, body])
}

/** A WebSocket client on a bare socket that counts frames and reads `bytesRead` from the kernel, inflating nothing. */
export class WireSocket {
  frames = 0
  compressed = 0
  extension: string | undefined
  private pending: Buffer = Buffer.alloc(0)
  private upgraded = false

  private constructor(readonly socket: Socket) {}

  static async open(port: number, offer: boolean): Promise<WireSocket> {
    const socket = connect(port, '127.0.0.1')
    const w = new WireSocket(socket)
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject)
      socket.on('data', (chunk: Buffer) => w.read(chunk, resolve))
      const ext = offer ? 'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n' : ''
      socket.write(
        `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n${ext}\r\n`,
      )
    })
    // As a browser does: once negotiated, every message it sends is compressed.
    socket.write(textFrame(JSON.stringify({ t: 'hello', v: 1, role: 'user', auth: {} }), w.extension !== undefined))
    return w
  }

  private read(chunk: Buffer, upgraded: () => void): void {
    let buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk
    if (!this.upgraded) {
      const end = buf.indexOf('\r\n\r\n')
      if (end < 0) return void (this.pending = buf)
      this.extension = /sec-websocket-extensions: *([^\r\n]*)/i.exec(buf.subarray(0, end).toString())?.[1]
      this.upgraded = true
      buf = buf.subarray(end + 4)
      upgraded()
    }
    let at = 0
    for (;;) {
      if (buf.length - at < 2) break
      let len = buf[at + 1]! & 0x7f
      let head = 2
      if (len === 126) {
        if (buf.length - at < 4) break
        len = buf.readUInt16BE(at + 2)
        head = 4
      } else if (len === 127) {
        if (buf.length - at < 10) break
        len = Number(buf.readBigUInt64BE(at + 2))
        head = 10
      }
      if (buf.length - at < head + len) break
      this.frames++
      if (buf[at]! & 0x40) this.compressed++
      at += head + len
    }
    this.pending = at === buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(at))
  }

  close(): void {
    this.socket.destroy()
  }
}
