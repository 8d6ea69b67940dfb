import { subjectToken, type Envelope } from '@rt/contract/internal'
import { roomSubject } from '@rt/rooms'

/**
 * The whole cluster protocol on one screen: every bus subject a node uses and what travels on
 * it. Subjects are wire format — nodes of two versions share a cluster during a rolling deploy
 * — so none of them changes. Names and ids become single tokens through `subjectToken`.
 *
 * | subject                          | message           | held by a node while…                   |
 * |----------------------------------|-------------------|-----------------------------------------|
 * | `room.<room>`                    | `RoomMessage`     | the room has a member on it             |
 * | `node.<node>`                    | `NodeMessage`     | it runs (its own id only)               |
 * | `node.<node>.ctl`                | `NodeControl`     | it runs (its own id only)               |
 * | `topic.<scope>.<topic>.<key>`    | `TopicMessage`    | a client or listener wants that stream, |
 * |                                  |                   | and no whole-topic listener covers it   |
 * | `topic.<scope>.<topic>.*`        | (subscribe only)  | it has a listener on every stream       |
 * | `cluster.hb`                     | `Heartbeat`       | it runs                                 |
 * | `cluster.delta`                  | `Delta`           | it runs                                 |
 * | `cluster.join` / `cluster.leave` | `Join` / `Leave`  | it runs                                 |
 * | `cluster.sync.<node>`            | `SyncRequest`     | it runs (its own id only)               |
 * | `cluster.state.<node>`           | `Snapshot`        | it runs (its own id only)               |
 *
 * Every message names its origin node (an envelope's `origin`, a directory message's `id` or
 * `from`); a node drops its own echoes with `fromPeers`, the one place that does.
 */
export const subjects = {
  room: roomSubject,
  node: (nodeId: string) => `node.${subjectToken(nodeId)}`,
  // A subject of its own, not a new header kind on `node.<node>`: an older node would read that as a delivery.
  nodeControl: (nodeId: string) => `node.${subjectToken(nodeId)}.ctl`,
  topic: (scope: string, topic: string, key: string) => `topic.${subjectToken(scope)}.${subjectToken(topic)}.${subjectToken(key)}`,
  topicAll: (scope: string, topic: string) => `topic.${subjectToken(scope)}.${subjectToken(topic)}.*`,
  heartbeat: 'cluster.hb',
  delta: 'cluster.delta',
  join: 'cluster.join',
  leave: 'cluster.leave',
  sync: (nodeId: string) => `cluster.sync.${subjectToken(nodeId)}`,
  state: (nodeId: string) => `cluster.state.${subjectToken(nodeId)}`,
} as const

// ---- envelopes: an encoded client frame, written as-is to local connections -------------
/** A room broadcast: header `''`. */
export type RoomMessage = Envelope
/** Addressed delivery: header is the JSON of `NodeHeader`. */
export type NodeMessage = Envelope
/** `['c', connId, role]`: one connection; `['u', userId, role]`: a user's connections on that node. */
export type NodeHeader = ['c' | 'u', string, string | null]
/** Asks a node to close connections it holds (`to` as in `NodeHeader`); JSON. Unknown `op`s are ignored. */
export interface NodeControl { op: 'close'; to: NodeHeader; code: number; reason: string }
/** A topic publish: header is the stream's params key (`stableKey`, `''` without params). */
export type TopicMessage = Envelope

// ---- directory: JSON ------------------------------------------------------------------------
/** One change to a node's part of the directory. */
export type DirectoryOp = ['+c', connId: string, userId: string, role: string, since: number] | ['-c', connId: string] | ['+r', room: string, connId: string] | ['-r', room: string, connId: string]
/** `[connId, userId, role, since]` */
export type ConnTuple = [string, string, string, number]

/** A node's own figures, not replicated otherwise: for operators (the inspector). */
export interface HeartbeatStats {
  /** When measured (the sender's clock, ms since epoch). */
  at: number
  /** Client subscriptions by topic name. */
  topics: Record<string, number>
  /** Cumulative counters since the node started (`ServerStats.totals`). */
  totals?: Record<string, number>
}
/** `stats` is optional: nodes of older versions send none, and still count as alive. */
export interface Heartbeat { id: string; started: number; seq: number; conns: number; stats?: HeartbeatStats }
export interface Delta { id: string; started: number; seq: number; ops: DirectoryOp[] }
export interface Join { id: string }
export interface Leave { id: string }
export interface SyncRequest { from: string }
export interface Snapshot { id: string; started: number; seq: number; conns: ConnTuple[]; rooms: [room: string, connIds: string[]][] }

/** Every directory message, by the subject it travels on. */
export interface DirectoryMessages {
  heartbeat: Heartbeat
  delta: Delta
  join: Join
  leave: Leave
  sync: SyncRequest
  state: Snapshot
}

const enc = new TextEncoder()
const dec = new TextDecoder()

export const packMessage = <K extends keyof DirectoryMessages>(_kind: K, m: DirectoryMessages[K]): Uint8Array => enc.encode(JSON.stringify(m))

/** A directory message with its origin named uniformly, for `fromPeers`; null if it is not an object. */
export function unpackMessage<K extends keyof DirectoryMessages>(data: Uint8Array): (DirectoryMessages[K] & { origin: string }) | null {
  const m = JSON.parse(dec.decode(data)) as unknown
  if (typeof m !== 'object' || m === null) return null
  const o = m as { id?: unknown; from?: unknown }
  const origin = typeof o.id === 'string' ? o.id : typeof o.from === 'string' ? o.from : ''
  return Object.assign(m as DirectoryMessages[K], { origin })
}
