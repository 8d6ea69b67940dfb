import { CloseCode, type Frame } from '@rt/contract'
import { QueuedSocket, createWriteScheduler, type TransportRequest, type WriteScheduler } from '@rt/server'
import type { UwsWebSocket } from './uws-types.js'

/** What each uWS socket carries as its user data. */
export interface UserData {
  /** The upgrade request, until `open` hands it to the core. */
  request: TransportRequest | undefined
  socket?: UwsSocket
}

/** Whether `f` is `threshold` bytes or more once encoded; UTF-8 length is computed only when it decides. */
export function atLeast(f: Frame, threshold: number): boolean {
  if (typeof f !== 'string') return f.byteLength >= threshold
  if (f.length >= threshold) return true
  return f.length * 3 >= threshold && Buffer.byteLength(f) >= threshold
}

/** A uWS socket on the shared write queue: each turn's frames in one corked batch. */
export class UwsSocket extends QueuedSocket<PubSub> {
  /** A close that happened before the core's listener existed (closed during `open`). */
  pendingClose: [number, string] | undefined
  /**
   * Channels this socket is subscribed to; made on the first subscribe. An array, not a Set: a
   * socket has a few (its rooms and topics), and a Set's table costs ~100 bytes a socket more.
   */
  channels: string[] | undefined

  constructor(
    readonly ws: UwsWebSocket<UserData>,
    pubsub: PubSub,
  ) {
    super(pubsub)
  }

  // One corked batch: N frames, one write. `send`'s result needs no handling: with
  // `maxBackpressure: 0` uWS never drops (2), and a buffered frame (0) shows in getBufferedAmount.
  protected write(frames: Frame[]): void {
    const threshold = this.scheduler.threshold
    this.ws.cork(() => {
      for (const f of frames) this.ws.send(f, typeof f !== 'string', atLeast(f, threshold))
    })
  }

  protected unsent(): number {
    return this.ws.getBufferedAmount()
  }

  // uWS sends the close frame, runs the close handler now, and cuts a peer that does not answer.
  protected end(code: number, reason: string): void {
    if (!this.gone) this.ws.end(code, reason)
  }

  subscribe(channel: string): void {
    if (this.closed || this.channels?.includes(channel)) return
    this.ws.subscribe(channel)
    // `[channel]`, not `[]` and a push: an array grown by a push reserves room for 16 more.
    if (this.channels) this.channels.push(channel)
    else this.channels = [channel]
    this.scheduler.join(channel, this)
  }

  unsubscribe(channel: string): void {
    const i = this.channels?.indexOf(channel) ?? -1
    if (i < 0) return
    // Order does not matter: the last one takes the freed place.
    const last = this.channels!.pop()!
    if (i < this.channels!.length) this.channels![i] = last
    this.scheduler.leave(channel, this)
    if (!this.gone) this.ws.unsubscribe(channel)
  }

  /** From the uWS close handler: the socket is gone, whoever closed it. */
  onGone(code: number, reason: string): void {
    if (this.gone) return
    this.markGone()
    for (const channel of this.channels ?? []) this.scheduler.leave(channel, this)
    this.channels = undefined
    if (this.listener) this.listener.close(code, reason)
    else this.pendingClose = [code, reason]
  }
}

/**
 * The transport's write scheduler, plus native pub/sub. Publishes bypass the core's per-send
 * check, so once per turn, after the flush, the local subscribers of every channel published to
 * are checked, and one whose buffer is over `limit` is closed as a slow consumer. One object
 * serves as both, so that a socket holds one reference for its writes and its channels.
 */
export class PubSub implements WriteScheduler {
  private readonly writes = createWriteScheduler(() => this.check())
  private published = new Set<string>()
  /** Local subscribers per native pub/sub channel: the socket itself while it is the only one (a user's own room), a Set beyond. */
  private readonly channels = new Map<string, UwsSocket | Set<UwsSocket>>()
  /** Frames of fewer bytes are sent uncompressed; `Infinity` with compression off. */
  threshold = Infinity

  constructor(private readonly limit: () => number) {}

  mark(s: UwsSocket): void {
    this.writes.mark(s)
  }

  /** A publish follows: frames queued before it must be written before it (send order). */
  flush(): void {
    this.writes.flush()
  }

  schedule(): void {
    this.writes.schedule()
  }

  /** Checks the channel's local subscribers for backpressure once uWS has written the publish. */
  afterPublish(channel: string): void {
    if (!this.channels.has(channel)) return
    this.published.add(channel)
    this.writes.schedule()
  }

  join(channel: string, s: UwsSocket): void {
    const had = this.channels.get(channel)
    if (had === undefined) this.channels.set(channel, s)
    else if (had instanceof Set) had.add(s)
    else if (had !== s) this.channels.set(channel, new Set([had, s]))
  }

  leave(channel: string, s: UwsSocket): void {
    const had = this.channels.get(channel)
    if (had === s) this.channels.delete(channel)
    else if (had instanceof Set && had.delete(s) && had.size === 0) this.channels.delete(channel)
  }

  // uWS writes a turn's published messages before Node's immediates run (measured), so their
  // bytes are counted here. Were it later, the check would come a turn late: nothing is dropped.
  private check(): void {
    if (this.published.size === 0) return
    const channels = this.published
    this.published = new Set()
    const limit = this.limit()
    for (const channel of channels) {
      const subs = this.channels.get(channel)
      for (const s of subs instanceof Set ? subs : subs ? [subs] : []) {
        if (!s.closed && s.bufferedAmount > limit) s.closeNow(CloseCode.SLOW_CONSUMER, 'slow consumer')
      }
    }
  }
}
