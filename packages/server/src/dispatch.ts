import { RtError, errorFrame, type AuthFrame, type ClientFrame, type SubFrame, type UnsubFrame } from '@rt/contract'
import type { Codecs } from './codecs.js'
import type { Connection } from './connection.js'

/** What a connection does with each frame type, once the frame is past the rate limit. */
export type FrameTable = {
  readonly [T in ClientFrame['t']]: (conn: Connection, frame: Extract<ClientFrame, { t: T }>) => void | Promise<void>
}

/** The node features that handle frames beyond calls. */
export interface FrameTopics {
  subscribeConn(conn: Connection, frame: SubFrame): Promise<void>
  unsubscribeConn(conn: Connection, frame: UnsubFrame): void
}

/** The node feature that takes fresh credentials (auth-refresh.ts). */
export interface FrameAuth {
  refresh(conn: Connection, frame: AuthFrame): Promise<void>
}

const ALREADY_AUTHENTICATED = errorFrame(undefined, new RtError('BAD_REQUEST', 'Already authenticated'))
const NO_REFRESH = new RtError('BAD_REQUEST', 'The credentials of this connection do not expire')

/** The frame table of a node: built once, one lookup per frame. */
export function createFrameTable(codecs: Codecs, topics: FrameTopics, auth?: FrameAuth): FrameTable {
  const pong = codecs.constant({ t: 'pong' })
  return {
    call: (conn, f) => conn.call(f),
    sub: (conn, f) => topics.subscribeConn(conn, f),
    unsub: (conn, f) => topics.unsubscribeConn(conn, f),
    ping: (conn) => conn.send(pong.get(conn.codec)),
    pong: () => {},
    // Encoded when sent, like every answer: an encoder that throws on it faults this connection only.
    hello: (conn) => conn.send(conn.encoder.encode(ALREADY_AUTHENTICATED)),
    auth: (conn, f) => (auth ? auth.refresh(conn, f) : conn.sendError(f.id, NO_REFRESH)),
  }
}
