import { CloseCode, type Frame } from '@rt/contract'
import { QueuedSocket, createWriteScheduler, type SocketListener, type TransportRequest, type WriteScheduler } from '@rt/server'
import type { UwsWebSocket } from './uws-types.js'

/** What each uWS socket carries as its user data. */
export interface UserData {
  /** The upgrade request, until `open` hands it to the core. */
  request: TransportRequest | undefined
  socket?: UwsSocket
}

/** A uWS socket on the shared write queue: each turn's frames in one corked batch. */
export class UwsSocket extends QueuedSocket<PubSub> {
  listener: SocketListener | undefined
  /** A close that happened before the core's listener existed (closed during `open`). */
  pendingClose: [number, string] | undefined
  /** Channels this socket is subscribed to; made on the first subscribe. */
  channels: Set<string> | undefined

  constructor(
    readonly ws: UwsWebSocket<UserData>,
    pubsub: PubSub,
  ) {
    super(pubsub)
  }

  // One corked batch: N frames, one write. `send`'s result needs no handling: with
  // `maxBackpressure: 0` uWS never drops (2), and a buffered frame (0) shows in getBufferedAmount.
  protected write(frames: Frame[]): void {
    this.ws.cork(() => {
      for (const f of frames) this.ws.send(f, typeof f !== 'string')
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
    if (this.closed || this.channels?.has(channel)) return
    this.ws.subscribe(channel)
    ;(this.channels ??= new Set()).add(channel)
    this.scheduler.join(channel, this)
  }

  unsubscribe(channel: string): void {
    if (!this.channels?.delete(channel)) return
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
  /** Local subscribers per native pub/sub channel. */
  private readonly channels = new Map<string, Set<UwsSocket>>()

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
    let set = this.channels.get(channel)
    if (!set) this.channels.set(channel, (set = new Set()))
    set.add(s)
  }

  leave(channel: string, s: UwsSocket): void {
    const set = this.channels.get(channel)
    if (set?.delete(s) && set.size === 0) this.channels.delete(channel)
  }

  // uWS writes a turn's published messages before Node's immediates run (measured), so their
  // bytes are counted here. Were it later, the check would come a turn late: nothing is dropped.
  private check(): void {
    if (this.published.size === 0) return
    const channels = this.published
    this.published = new Set()
    const limit = this.limit()
    for (const channel of channels) {
      for (const s of this.channels.get(channel) ?? []) {
        if (!s.closed && s.bufferedAmount > limit) s.closeNow(CloseCode.SLOW_CONSUMER, 'slow consumer')
      }
    }
  }
}
