import type WebSocket from 'ws'

/** The wire protocols the load clients speak: @rt v1, the raw servers' minimal one, Socket.IO v5 over engine.io v4. */
export type ProtocolName = 'rt' | 'raw' | 'sio'

/** What a received frame means to a load client. */
export type FrameKind = 'tick' | 'reply' | 'ready' | 'ping' | 'error' | 'other'

export interface ClientProtocol {
  url(base: string, token: string): string
  /** Sent when the socket opens; `true` means the connection is ready at once (raw). */
  open(ws: WebSocket, token: string): boolean
  classify(data: Buffer): FrameKind
  /** Answers a `ping` frame (and, for Socket.IO, the engine.io `open` packet). */
  answer(ws: WebSocket, data: Buffer, token: string): void
  call(id: number, ts: number): string
}

const TS = Buffer.from('"ts":')
const SEQ = Buffer.from('"seq":')
const C = (s: string) => s.charCodeAt(0)

/** Reads the unsigned integer after `key` in a frame, without decoding the frame. */
function readInt(data: Buffer, key: Buffer): number {
  let i = data.indexOf(key)
  if (i < 0) return -1
  i += key.length
  let v = 0
  for (let c = data[i]!; c >= 48 && c <= 57; c = data[++i]!) v = v * 10 + (c - 48)
  return v
}
export const readTs = (data: Buffer) => readInt(data, TS)
export const readSeq = (data: Buffer) => readInt(data, SEQ)

const callFrame = (id: number, ts: number) => `{"t":"call","id":${id},"p":"echo","d":{"ts":${ts},"seq":${id}}}`

// @rt frames start `{"t":"<type>"`: the 7th byte tells them apart (`event`/`error` differ at the 8th).
const rt: ClientProtocol = {
  url: (base) => base,
  open(ws, token) {
    ws.send(JSON.stringify({ t: 'hello', v: 1, role: 'user', auth: { token } }))
    return false
  },
  classify(d) {
    switch (d[6]) {
      case C('e'):
        return d[7] === C('v') ? 'tick' : 'error'
      case C('r'):
        return 'reply'
      case C('w'):
        return 'ready'
      case C('p'):
        return d[7] === C('i') ? 'ping' : 'other'
      default:
        return 'other'
    }
  },
  answer(ws) {
    ws.send('{"t":"pong"}')
  },
  call: callFrame,
}

// The raw servers authenticate on the upgrade (token in the URL), send @rt-shaped event frames
// (same bytes on the wire) and echo whatever they receive.
const raw: ClientProtocol = {
  url: (base, token) => `${base}/?token=${token}`,
  open: () => true,
  classify: (d) => (d[6] === C('e') ? 'tick' : d[6] === C('c') ? 'reply' : 'other'),
  answer() {},
  call: callFrame,
}

// engine.io v4 packets: 0 open, 2 ping, 3 pong, 4 message; socket.io v5 inside a message:
// 0 CONNECT, 2 EVENT, 3 ACK, 4 CONNECT_ERROR.
const sio: ClientProtocol = {
  url: (base) => `${base}/socket.io/?EIO=4&transport=websocket`,
  open: () => false,
  classify(d) {
    if (d[0] === C('4')) {
      switch (d[1]) {
        case C('2'):
          return 'tick'
        case C('3'):
          return 'reply'
        case C('0'):
          return 'ready'
        case C('4'):
          return 'error'
        default:
          return 'other'
      }
    }
    return d[0] === C('2') || d[0] === C('0') ? 'ping' : 'other'
  },
  answer(ws, d, token) {
    if (d[0] === C('2')) ws.send('3')
    else ws.send(`40${JSON.stringify({ token })}`) // the open packet: connect to namespace "/"
  },
  call: (id, ts) => `42${id}["echo",{"ts":${ts},"seq":${id}}]`,
}

export const protocols: Record<ProtocolName, ClientProtocol> = { rt, raw, sio }
