import type { Frame } from '@rt/contract'
import { WireSocket, maskedFrame } from '../wire/wire-socket.js'

/** A masked client frame: text for a string, binary for bytes. */
export const clientFrame = (frame: Frame): Buffer => maskedFrame(Buffer.from(typeof frame === 'string' ? Buffer.from(frame) : frame), typeof frame === 'string' ? 0x81 : 0x82)

/** A bare WebSocket client offering a subprotocol (or none) that says hello; `header('sec-websocket-protocol')` is what was agreed. */
export async function openCodecWire(port: number, protocol: string | undefined, hello: Frame): Promise<WireSocket> {
  const w = await WireSocket.open(port, protocol ? `Sec-WebSocket-Protocol: ${protocol}\r\n` : '')
  w.send(clientFrame(hello))
  return w
}
