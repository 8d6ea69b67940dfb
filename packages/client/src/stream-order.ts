import type { StreamPosition, SubAck } from '@rt/contract'
import type { SubscribedInfo } from './types.js'

/**
 * Orders one history-topic subscription's publications by offset: drops duplicates, holds what
 * follows a hole until a new `sub` (sent by `repair`) replays the missing ones, and follows the
 * stream to a new epoch after asking the server from its position (so the app is told
 * `recovered: false` rather than left with a silent gap). The cluster bus is at-most-once, so a hole in live offsets is normal.
 */
export class StreamOrder {
  private pos: StreamPosition | undefined
  /** Publications past a hole, by offset, in the epoch of `pos`. */
  private readonly held = new Map<number, unknown>()
  /** Publications of another epoch than `pos`'s, held until the server says where the stream stands. */
  private foreign: { offset: number; epoch: string; payload: unknown }[] = []
  /** Whether the `sub` on its way sent a position; undefined while none is. */
  private pending: boolean | undefined

  constructor(
    since: StreamPosition | undefined,
    private readonly deliver: (payload: unknown, meta: StreamPosition) => void,
    private readonly repair: () => void,
  ) {
    this.pos = since && { offset: since.offset, epoch: since.epoch }
  }

  /** The last delivered publication's position (or the top the server answered with). */
  get position(): StreamPosition | undefined {
    return this.pos && { offset: this.pos.offset, epoch: this.pos.epoch }
  }

  /** The `s` of the next `sub` frame, when a position is known. */
  get from(): { o: number; e: string } | undefined {
    return this.pos && { o: this.pos.offset, e: this.pos.epoch }
  }

  /** A `sub` frame was written (with `from`). */
  sent(): void {
    this.pending = this.pos !== undefined
  }

  /** The link dropped: the answer to the `sub` on its way will never come. */
  dropped(): void {
    this.pending = undefined
  }

  /** The server answered the `sub`; call `drain` once `onSubscribed` has run. */
  acked(ack: SubAck): SubscribedInfo {
    const wasRecovering = this.pending === true
    this.pending = undefined
    const top: StreamPosition = { offset: typeof ack.o === 'number' ? ack.o : 0, epoch: typeof ack.e === 'string' ? ack.e : '' }
    const recovered = ack.r === true
    // Recovered: the replay of (pos, top] follows as ordinary pubs. Otherwise nothing is replayed and
    // the stream continues live from the top: what was held up to it stays missing, as the app is told.
    if (!recovered || !this.pos || this.pos.epoch !== top.epoch) {
      if (this.pos?.epoch !== top.epoch) this.held.clear()
      for (const o of this.held.keys()) if (o <= top.offset) this.held.delete(o)
      this.pos = top
    }
    // What arrived in the stream's new life and follows the top continues live after onSubscribed.
    for (const f of this.foreign) if (f.epoch === top.epoch && f.offset > top.offset) this.held.set(f.offset, f.payload)
    this.foreign = []
    return { recovered, wasRecovering, offset: top.offset, epoch: top.epoch }
  }

  publication(payload: unknown, offset: number, epoch: string): void {
    const pos = this.pos
    if (pos && epoch === pos.epoch) {
      if (offset <= pos.offset) return // a duplicate: a replay overlapping what was delivered live
      if (offset > pos.offset + 1) {
        this.held.set(offset, payload)
        if (this.pending === undefined) this.repair()
        return
      }
    } else if (pos) {
      // The stream was reset: what its old life had after our position may be lost. Hold this and
      // ask the server from our position, as for a hole: it answers recovered: false and the new top,
      // so the app hears of the loss through onSubscribed instead of a silent gap.
      this.foreign.push({ offset, epoch, payload })
      if (this.pending === undefined) this.repair()
      return
    }
    this.accept(payload, offset, epoch)
    this.drain()
  }

  /** Delivers held publications that are next in line. */
  drain(): void {
    for (;;) {
      const next = this.pos && this.pos.offset + 1
      if (next === undefined || !this.held.has(next)) return
      const payload = this.held.get(next)
      this.held.delete(next)
      this.accept(payload, next, this.pos!.epoch)
    }
  }

  private accept(payload: unknown, offset: number, epoch: string): void {
    this.pos = { offset, epoch }
    this.deliver(payload, { offset, epoch })
  }
}
