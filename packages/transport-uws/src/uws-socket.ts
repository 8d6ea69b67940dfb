import { CloseCode, type Frame } from '@rt/contract'
import type { SocketListener, TransportRequest, TransportSocket } from '@rt/server'
import type { UwsWebSocket } from './uws-types.js'

/** What each uWS socket carries as its user data. */
export interface UserData {
  /** The upgrade request, until `open` hands it to the core. */
  request: TransportRequest | undefined
  socket?: UwsSocket
}

/** Queues frames per socket and writes a socket's whole queue in one corked batch per turn. */
export class UwsSocket implements TransportSocket {
  queue: Frame[] = []
  queuedBytes = 0
  /** No more sends: `close()` began, or the socket is gone. */
  closed = false
  /** The close handler ran: the uWS socket throws on any call now. */
  gone = false
  listener: SocketListener | undefined
  /** A close that happened before the core's listener existed (closed during `open`). */
  pendingClose: [number, string] | undefined
  /** Channels this socket is subscribed to; made on the first subscribe. */
  channels: Set<string> | undefined

  constructor(
    readonly ws: UwsWebSocket<UserData>,
    private readonly turn: Turn,
  ) {}

  get bufferedAmount(): number {
    return this.queuedBytes + (this.gone ? 0 : this.ws.getBufferedAmount())
  }

  send(frame: Frame): void {
    if (this.closed) return
    this.queue.push(frame)
    this.queuedBytes += typeof frame === 'string' ? frame.length : frame.byteLength
    if (this.queue.length === 1) this.turn.mark(this)
  }

  flush(): void {
    const frames = this.queue
    if (frames.length === 0) return
    this.queue = []
    this.queuedBytes = 0
    if (this.gone) return
    // One corked batch: N frames, one write.
    this.ws.cork(() => {
      for (const f of frames) this.ws.send(f, typeof f !== 'string')
    })
  }

  /** Closes as a slow consumer, without flushing more onto its buffer. */
  slow(): void {
    this.queue = []
    this.queuedBytes = 0
    this.end(CloseCode.SLOW_CONSUMER, 'slow consumer')
  }

  close(code: number, reason?: string): void {
    if (this.closed) return
    this.flush()
    this.end(code, reason ?? '')
  }

  private end(code: number, reason: string): void {
    this.closed = true
    // uWS sends the close frame, runs the close handler now, and cuts a peer that does not answer.
    if (!this.gone) this.ws.end(code, reason)
  }

  subscribe(channel: string): void {
    if (this.closed || this.channels?.has(channel)) return
    this.ws.subscribe(channel)
    ;(this.channels ??= new Set()).add(channel)
    this.turn.join(channel, this)
  }

  unsubscribe(channel: string): void {
    if (!this.channels?.delete(channel)) return
    this.turn.leave(channel, this)
    if (!this.gone) this.ws.unsubscribe(channel)
  }

  /** From the uWS close handler: the socket is gone, whoever closed it. */
  onGone(code: number, reason: string): void {
    if (this.gone) return
    this.gone = this.closed = true
    this.queue = []
    this.queuedBytes = 0
    for (const channel of this.channels ?? []) this.turn.leave(channel, this)
    this.channels = undefined
    if (this.listener) this.listener.close(code, reason)
    else this.pendingClose = [code, reason]
  }
}

/**
 * One transport's per-turn work: flush every socket with queued frames, then check the
 * subscribers of every channel published to this turn. Native publishes bypass the core's
 * per-send check, so a subscriber whose buffer is over `limit` is closed here as a slow consumer.
 */
export class Turn {
  private dirty: UwsSocket[] = []
  private published = new Set<string>()
  private scheduled = false
  /** Local subscribers per native pub/sub channel. */
  private readonly channels = new Map<string, Set<UwsSocket>>()

  constructor(private readonly limit: () => number) {}

  mark(s: UwsSocket): void {
    this.dirty.push(s)
    this.schedule()
  }

  /** A publish follows: frames queued before it must be written before it (send order). */
  flushNow(): void {
    const batch = this.dirty
    this.dirty = []
    for (const s of batch) s.flush()
  }

  /** Checks the channel's local subscribers for backpressure once uWS has written the publish. */
  afterPublish(channel: string): void {
    if (!this.channels.has(channel)) return
    this.published.add(channel)
    this.schedule()
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

  private schedule(): void {
    if (this.scheduled) return
    this.scheduled = true
    setImmediate(this.run)
  }

  // uWS writes a turn's published messages before Node's immediates run (measured), so their
  // bytes are counted here. Were it later, the check would come a turn late: nothing is dropped.
  private run = (): void => {
    this.scheduled = false
    this.flushNow()
    if (this.published.size === 0) return
    const channels = this.published
    this.published = new Set()
    const limit = this.limit()
    for (const channel of channels) {
      for (const s of this.channels.get(channel) ?? []) {
        if (!s.closed && s.bufferedAmount > limit) s.slow()
      }
    }
  }
}
