import { constants, deflateRawSync } from 'node:zlib'
import { WireSocket, maskedFrame } from '../wire/wire-socket.js'

/** A masked client text frame (under 64 KiB), deflated (RSV1) if `compress`. */
function textFrame(text: string, compress: boolean): Buffer {
  const z = compress ? deflateRawSync(text, { finishFlush: constants.Z_SYNC_FLUSH }) : undefined
  return maskedFrame(z ? Buffer.from(z.subarray(0, z.length - 4)) : Buffer.from(text), compress ? 0xc1 : 0x81)
}

/** A bare WebSocket client that offers permessage-deflate (or not) and says hello; `header('sec-websocket-extensions')` is what was agreed. */
export async function openWire(port: number, offer: boolean): Promise<WireSocket> {
  const w = await WireSocket.open(port, offer ? 'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n' : '')
  // As a browser does: once negotiated, every message it sends is compressed.
  w.send(textFrame(JSON.stringify({ t: 'hello', v: 1, role: 'user', auth: {} }), w.header('sec-websocket-extensions') !== undefined))
  return w
}
