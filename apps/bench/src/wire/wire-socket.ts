import { randomBytes } from 'node:crypto'
import { connect, type Socket } from 'node:net'

/** A masked client frame around `body`; `b0` is its first byte (FIN, RSV1 for a compressed one, opcode). Under 64 KiB. */
export function maskedFrame(body: Buffer, b0: number): Buffer {
  const masked = Buffer.from(body)
  const mask = randomBytes(4)
  for (let i = 0; i < masked.length; i++) masked[i]! ^= mask[i & 3]!
  const head = masked.length < 126 ? Buffer.from([b0, 0x80 | masked.length]) : Buffer.from([b0, 0xfe, masked.length >> 8, masked.length & 0xff])
  return Buffer.concat([head, mask, masked])
}

/**
 * A WebSocket client on a bare socket that counts the frames it gets (binary ones, compressed
 * ones) and reads `bytesRead` from the kernel, decoding and inflating nothing: the load costs
 * the client little. `headers`: extra upgrade request lines (an extension or a subprotocol offer).
 */
export class WireSocket {
  frames = 0
  binary = 0
  compressed = 0
  /** The server's upgrade response headers. */
  private response = ''
  private pending: Buffer = Buffer.alloc(0)
  private upgraded = false

  private constructor(readonly socket: Socket) {}

  static async open(port: number, headers = ''): Promise<WireSocket> {
    const socket = connect(port, '127.0.0.1')
    socket.setNoDelay(true)
    const w = new WireSocket(socket)
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject)
      socket.on('data', (chunk: Buffer) => w.read(chunk, resolve))
      socket.write(
        `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n${headers}\r\n`,
      )
    })
    return w
  }

  /** A header of the server's upgrade response (e.g. `sec-websocket-protocol`), if it sent one. */
  header(name: string): string | undefined {
    return new RegExp(`^${name}: *([^\\r\\n]*)`, 'im').exec(this.response)?.[1]
  }

  send(bytes: Buffer): void {
    this.socket.write(bytes)
  }

  private read(chunk: Buffer, upgraded: () => void): void {
    let buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk
    if (!this.upgraded) {
      const end = buf.indexOf('\r\n\r\n')
      if (end < 0) return void (this.pending = buf)
      this.response = buf.subarray(0, end).toString()
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
      if ((buf[at]! & 0x0f) === 2) this.binary++
      if (buf[at]! & 0x40) this.compressed++
      at += head + len
    }
    this.pending = at === buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(at))
  }

  close(): void {
    this.socket.destroy()
  }
}
