/** What every contender's server offers the harness, whatever it runs on. */
export interface BenchServer {
  port: number
  /** Sends tick `seq` (stamped now) to every member of room `bench`, on every node of a cluster. */
  broadcast(seq: number): void
  /** Members of room `bench` on this node. */
  roomSize(): number
  close(): Promise<void>
  /** Facts for the report (e.g. whether uWebSockets.js is native). */
  facts?: Record<string, unknown>
  /** What the server holds right now, for leak checks (@rt: `srv.stats()` and the directory). */
  state?(): Promise<Record<string, number>>
}

export interface ServerConfig {
  kind: 'rt-ws' | 'rt-uws' | 'raw-ws' | 'raw-uws' | 'sio'
  /** Cluster bus: NATS for @rt, Redis for Socket.IO. */
  bus?: { url: string }
  nodeId?: string
  /**
   * How raw uWS answers a call (`pnpm bench:parts`): `echo` the bytes back from the message
   * callback (the default, every other scenario); `deferred` the same bytes, written at the end
   * of the event-loop turn as @rt writes; `json` decoded and an answer encoded (the least an RPC
   * must do to read the call's id and write its result), written at the end of the turn.
   */
  rawRpc?: 'echo' | 'deferred' | 'json'
  /**
   * How a raw uWS client is let in (`pnpm bench:parts`): `upgrade`, its token checked on the
   * upgrade request and nothing exchanged (the default, every other scenario); `hello`, @rt's
   * handshake at its least: the client's first frame (`{"t":"hello",…,"auth":{"token"}}`) decoded
   * and checked, the rooms joined, a `welcome` frame written. The load clients speak @rt's
   * protocol to it.
   */
  rawSetup?: 'upgrade' | 'hello'
}

export const TOKEN = 'bench'
export const ROOM = 'bench'

/** The event frame raw servers send: byte for byte what @rt sends for the same tick. */
export const tickFrame = (ts: number, seq: number) => `{"t":"event","n":"tick","d":{"ts":${ts},"seq":${seq}}}`
