/**
 * Topic history: the storage seam. A topic declared with `history` keeps its last publications
 * per stream (per params value) in a `HistoryStore`; a client that was away resumes from its
 * position. The memory store (in @rt/server) is the embedded default; @rt/bus-nats has one on
 * JetStream. Spec: history-and-recovery.
 */

/** Where a publication sits in its stream. `offset` is contiguous per stream: 1, 2, 3, … whichever node appended. */
export interface StreamPosition {
  offset: number
  /** Names one life of the stream's storage: when it is lost or reset, the epoch changes and old offsets mean nothing. */
  epoch: string
}

/** What a topic declares: `size` (1 … 10 000) publications kept per stream; `ttlMs` drops older ones. */
export interface HistoryOptions {
  size: number
  ttlMs?: number
}

/** One stored publication: its offset and the payload as the server stored it (UTF-8 JSON). */
export interface StoredPublication {
  offset: number
  data: Uint8Array
}

export interface HistoryRead {
  /** Oldest first. */
  publications: StoredPublication[]
  /** The stream's current top: the offset of its newest publication (0 for an empty stream), and its epoch. */
  top: StreamPosition
  /**
   * The oldest offset still retained (top.offset + 1 when nothing is retained). A reader that
   * wants everything after offset X got it all when `X + 1 >= oldest` (and the epoch matches).
   */
  oldest: number
}

export interface HistoryReadOptions {
  /** Publications with an offset greater than this one. @default 0 (everything retained) */
  after?: number
  /** At most this many publications: the oldest ones after `after`, or with `last`, the newest ones. 0 reads only the top. */
  limit: number
  /** Take the newest `limit` publications instead of the oldest. @default false */
  last?: boolean
}

/**
 * Storage for topic history, shared by every node of a cluster. `stream` is an opaque name made of
 * subject tokens (`<scope>.<topic>.<params key>`, each token as `subjectToken` makes it).
 */
export interface HistoryStore {
  /**
   * Appends one publication; resolves with its position. Offsets must be contiguous per stream
   * even when several nodes append to it at once. Applies `size` and `ttlMs` as retention.
   */
  append(stream: string, data: Uint8Array, options: HistoryOptions): Promise<StreamPosition>
  /** Reads a stream (an unknown stream reads as empty, with a top of 0 and a fresh epoch). */
  read(stream: string, options: HistoryReadOptions & { history: HistoryOptions }): Promise<HistoryRead>
  /** Releases what the store holds open (never the bus's connection it was given). */
  close(): Promise<void>
}
