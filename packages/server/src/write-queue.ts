import type { Frame } from '@rt/contract'
import type { SocketListener, TransportSocket } from './transport.js'

/** How long a closing socket may take to finish its close handshake before it is cut. */
export const CLOSE_GRACE_MS = 2_000

/** One transport's per-turn flush: every socket with frames queued is written once per event-loop turn. */
export interface WriteScheduler {
  /** Called by a socket when it queues its first frame of the turn. */
  mark(socket: QueuedSocket<WriteScheduler>): void
  /** Writes every queued frame now: before a native publish, so that each socket keeps send order. */
  flush(): void
  /** Makes sure a turn runs (and `afterTurn` with it) even if nothing is queued. */
  schedule(): void
}

/**
 * A per-transport scheduler. `afterTurn` runs after each turn's flush: a cache of the turn's
 * framed bytes is dropped there, or native publishes checked for backpressure.
 */
export function createWriteScheduler(afterTurn?: () => void): WriteScheduler {
  let dirty: QueuedSocket<WriteScheduler>[] = []
  let scheduled = false
  const flush = (): void => {
    if (dirty.length === 0) return
    const batch = dirty
    dirty = []
    for (const s of batch) s.flush()
  }
  const run = (): void => {
    scheduled = false
    flush()
    afterTurn?.()
  }
  const schedule = (): void => {
    if (scheduled) return
    scheduled = true
    setImmediate(run)
  }
  return {
    mark(socket) {
      dirty.push(socket)
      schedule()
    },
    flush,
    schedule,
  }
}

const OPEN = 0
const CLOSING = 1
const GONE = 2

/**
 * A socket whose frames are queued and written once per turn, in one batch per socket. The
 * queue, its byte count, close-after-flush and the close grace live here; a transport subclasses
 * it and supplies only the writes. An idle socket holds no queue.
 */
export abstract class QueuedSocket<S extends WriteScheduler = WriteScheduler> implements TransportSocket {
  /**
   * Where the transport gives this socket's frames and close: set to what the core's `open`
   * returned, replaced once by `rebind` when the handshake ends.
   */
  listener: SocketListener | undefined = undefined
  private queue: Frame[] | undefined = undefined
  private queuedBytes = 0
  private state: typeof OPEN | typeof CLOSING | typeof GONE = OPEN
  /** Cuts the socket if its close handshake does not finish; cleared once it is gone. */
  private grace: ReturnType<typeof setTimeout> | undefined = undefined

  /** @param scheduler shared by the transport's sockets; a transport may extend it (e.g. native pub/sub). */
  constructor(protected readonly scheduler: S) {}

  /** Writes `frames` to the socket now, in order, as one batch. Never called once the socket is gone. */
  protected abstract write(frames: Frame[]): void
  /** Bytes the socket library or the kernel holds, written but not yet sent. */
  protected abstract unsent(): number
  /** Starts the close handshake; what was queued has been written. */
  protected abstract end(code: number, reason: string): void
  /** Cuts the connection. When present, called if the socket is not gone `CLOSE_GRACE_MS` after `close()`. */
  protected cut?(): void

  /** No more sends: `close()` began, or the socket is gone. */
  get closed(): boolean {
    return this.state !== OPEN
  }

  /** The transport reported the socket closed: nothing can be written to it any more. */
  get gone(): boolean {
    return this.state === GONE
  }

  get bufferedAmount(): number {
    return this.queuedBytes + (this.state === GONE ? 0 : this.unsent())
  }

  send(frame: Frame): void {
    if (this.state !== OPEN) return
    this.queuedBytes += typeof frame === 'string' ? frame.length : frame.byteLength
    const queue = this.queue
    if (queue !== undefined) return void queue.push(frame)
    // `[frame]`: the usual turn writes one frame, and an array grown by a push reserves room for 16 more.
    this.queue = [frame]
    this.scheduler.mark(this)
  }

  rebind(listener: SocketListener): void {
    this.listener = listener
  }

  /** Writes what is queued now; the scheduler calls it once per turn. */
  flush(): void {
    const frames = this.queue
    if (!frames) return
    this.queue = undefined
    this.queuedBytes = 0
    if (this.state !== GONE) this.write(frames)
  }

  close(code: number, reason = ''): void {
    if (this.state !== OPEN) return
    this.state = CLOSING
    this.flush()
    this.finish(code, reason)
  }

  /** Closes without writing what is queued: for a slow consumer, whose queue would only add to its buffer. */
  closeNow(code: number, reason: string): void {
    if (this.state !== OPEN) return
    this.state = CLOSING
    this.queue = undefined
    this.queuedBytes = 0
    this.finish(code, reason)
  }

  /** Called by the transport once the socket is closed, whoever closed it: drops the queue and the grace timer. */
  protected markGone(): void {
    this.state = GONE
    this.queue = undefined
    this.queuedBytes = 0
    clearTimeout(this.grace)
    this.grace = undefined
  }

  private finish(code: number, reason: string): void {
    this.end(code, reason)
    // A dead peer never answers the close frame: do not wait for it longer than the grace.
    if (this.cut && this.state !== GONE) this.grace = setTimeout(() => this.cut?.(), CLOSE_GRACE_MS).unref()
  }
}

/**
 * For a transport's `close()`: waits until `open()` reaches 0 or `CLOSE_GRACE_MS` have passed,
 * so that the sockets the core closed can finish their close handshakes. Resolves with the ms left.
 */
export async function closeGrace(open: () => number): Promise<number> {
  const deadline = Date.now() + CLOSE_GRACE_MS
  while (open() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
  return Math.max(0, deadline - Date.now())
}
