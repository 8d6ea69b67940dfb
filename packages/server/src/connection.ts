import {
  CloseCode,
  RtError,
  decodeClientFrame,
  errorFrame,
  toRtError,
  validate,
  type CallFrame,
  type ClientFrame,
  type Encoder,
  type Frame,
  type RoleView,
  type Schema,
  type ValidationResult,
} from '@rt/contract'
import { ContractViolation } from '@rt/contract/internal'
import type { Expiry } from './auth-refresh.js'
import { depthWithin } from './depth.js'
import type { FrameTable } from './dispatch.js'
import type { Limits } from './limits.js'
import { checkPayload } from './payload.js'
import type { Procedure, RoleEntry } from './roles.js'
import type { CallProbe, Telemetry } from './telemetry/telemetry.js'
import type { TransportSocket } from './transport.js'
import type { BaseContext, DisconnectReason, ErrorContext } from './types.js'

/** What a connection needs from its node. */
export interface NodeCore {
  readonly nodeId: string
  /** The node's first (canonical) encoder: a connection's own unless it asked for another. */
  readonly encoder: Encoder
  readonly limits: Limits
  readonly validateOutput: boolean
  readonly draining: boolean
  /** What to do with each frame type (see dispatch.ts). */
  readonly frames: FrameTable
  report(error: unknown, context: ErrorContext): void
  detach(conn: Connection, reason: DisconnectReason): void
  readonly telemetry: Telemetry
}

const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as { then?: unknown }).then === 'function'

const frameSize = (data: Frame): number => (typeof data === 'string' ? data.length : data.byteLength)

// Answers that carry nothing of their own, built once.
const MALFORMED = errorFrame(undefined, new RtError('BAD_REQUEST', 'Malformed frame'))
const TOO_MANY_MESSAGES = new RtError('RATE_LIMITED', 'Too many messages')
const TOO_MANY_CALLS = new RtError('RATE_LIMITED', 'Too many calls in flight')
const SHUTTING_DOWN = new RtError('UNAVAILABLE', 'Server is shutting down')
const INTERNAL = new RtError('INTERNAL', 'Internal server error')

/** One authenticated client connection on this node. */
export class Connection {
  readonly since = Date.now()
  /** When the last frame came (`performance.now()`): the heartbeat's clock, and the token buckets' (refilled up to it). */
  lastSeen = performance.now()
  closed = false
  // Made on the first call that does not answer synchronously: most connections keep no Set (~130 B).
  private inFlight: Set<number> | undefined
  private sends = 0
  // Token buckets, frames and bytes (see limits.ts), kept inline: no object per connection.
  private tokens: number
  private bytes: number
  private strikes = 0
  private settled: (() => void) | undefined
  /** Only for credentials that expire (see auth-refresh.ts). */
  expiry: Expiry | undefined
  // The node's counters, held here: one load per frame sent, not two.
  private readonly totals: NodeCore['telemetry']['totals']

  readonly role: string

  constructor(
    readonly id: string,
    private readonly entry: RoleEntry,
    // Replaced by an accepted refresh (auth-refresh.ts); handlers read it per call.
    public ctx: BaseContext,
    readonly socket: TransportSocket,
    private readonly core: NodeCore,
    /** Index of its codec in the node's list (0: the first, JSON by default); fan-out picks the frame by it. */
    readonly codec = 0,
    /** The codec the client asked for at connect: every frame to and from it. */
    readonly encoder: Encoder = core.encoder,
  ) {
    this.role = entry.view.role
    this.tokens = core.limits.rateBurst
    this.bytes = core.limits.byteBurst
    this.totals = core.telemetry.totals
  }

  get nodeId(): string {
    return this.core.nodeId
  }

  get view(): RoleView {
    return this.entry.view
  }

  emit(event: string, payload: unknown): void {
    const def = this.view.events.get(event)
    if (!def) throw new ContractViolation('NOT_FOUND', `Event "${event}" is not in role "${this.role}"'s vocabulary`)
    if (this.core.validateOutput) checkPayload(def.payload, payload, `emit("${event}")`)
    this.send(this.encoder.encode({ t: 'event', n: event, d: payload }))
  }

  /** Sends an encoded frame; closes the connection if its outbound buffer is over the limit. */
  send(frame: Frame): void {
    if (this.closed) return
    this.socket.send(frame)
    const size = frameSize(frame)
    const totals = this.totals
    totals.framesOut++
    totals.bytesOut += size
    // Reading the buffered amount walks the socket's write state (2.8 % of a ws fan-out):
    // every 16th frame, or a large one, bounds the overshoot to 16 frames.
    if ((++this.sends & 15) !== 0 && size < 16_384) return
    if (this.socket.bufferedAmount > this.core.limits.maxBufferedBytes) {
      this.core.telemetry.slowConsumer(this.role)
      this.close(CloseCode.SLOW_CONSUMER, 'slow consumer')
    }
  }

  close(code: number = CloseCode.NORMAL, reason = ''): void {
    if (this.closed) return
    this.closed = true
    this.socket.close(code, reason)
    this.core.detach(this, { code, reason })
  }

  /** Fails every call still running (used when the node shuts down). */
  failInFlight(error: RtError): void {
    if (!this.inFlight) return
    for (const id of this.inFlight) this.sendError(id, error)
    this.inFlight.clear()
  }

  /** Resolves once no call is running. */
  settledCalls(): Promise<void> {
    if (!this.inFlight?.size) return Promise.resolve()
    return new Promise((r) => (this.settled = r))
  }

  /**
   * Handles one inbound frame. The one guard of frame handling: nothing thrown while handling
   * it, now or in the promise it starts, escapes to the process; see `fault`.
   */
  receive(data: Frame): void {
    // Frames still arriving from a read that began before the close cost nothing.
    if (this.closed) return
    const now = performance.now()
    // The buckets refill for the time since the last frame (or the connection's start).
    const dt = now - this.lastSeen
    this.lastSeen = now
    // Bytes are metered before parsing: malformed frames cost the parser as much as good ones.
    if (!this.refill(dt, frameSize(data))) {
      this.core.telemetry.rateLimited('bytes')
      return this.close(CloseCode.RATE_LIMITED, 'inbound byte rate exceeded')
    }
    const frame = decodeClientFrame(this.encoder, data)
    const id = frame?.t === 'call' || frame?.t === 'sub' ? frame.id : undefined
    try {
      if (!frame) {
        this.send(this.encoder.encode(MALFORMED))
        return this.strike()
      }
      const pending = this.dispatch(frame)
      if (pending) pending.catch((e: unknown) => this.fault(e, id))
    } catch (e) {
      this.fault(e, id)
    }
  }

  /**
   * Whatever escaped the handling of a frame: an RtError a client caused is answered with its
   * code; anything else is reported and answered INTERNAL (with the frame's id, if it has one).
   * A connection that cannot even be told is closed (4000).
   */
  fault(error: unknown, id: number | undefined): void {
    const err = toRtError(error)
    if (err.code === 'INTERNAL') this.core.report(err.cause ?? err, { where: 'frame', connId: this.id })
    try {
      this.sendError(id, err.code === 'INTERNAL' ? INTERNAL : err)
    } catch (e) {
      this.core.report(e, { where: 'frame', connId: this.id })
      this.close(CloseCode.PROTOCOL_ERROR, 'internal error')
    }
  }

  private dispatch(frame: ClientFrame): void | Promise<void> {
    if (!this.takeToken()) {
      this.core.telemetry.rateLimited('messages')
      if (frame.t === 'call' || frame.t === 'sub') this.sendError(frame.id, TOO_MANY_MESSAGES)
      return this.strike()
    }
    this.strikes = 0
    return (this.core.frames[frame.t] as (conn: Connection, frame: ClientFrame) => void | Promise<void>)(this, frame)
  }

  /** Refills both buckets for `dt` ms and takes `size` bytes; false once the byte burst is used up. */
  private refill(dt: number, size: number): boolean {
    const { ratePerSecond, rateBurst, byteRatePerSecond, byteBurst } = this.core.limits
    // dt > 0: Infinity × 0 would be NaN.
    if (dt > 0) {
      this.tokens = Math.min(rateBurst, this.tokens + (dt * ratePerSecond) / 1000)
      this.bytes = Math.min(byteBurst, this.bytes + (dt * byteRatePerSecond) / 1000)
    }
    return (this.bytes -= size) >= 0
  }

  private takeToken(): boolean {
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }

  private strike(): void {
    if (++this.strikes >= this.core.limits.rateStrikes) this.close(CloseCode.RATE_LIMITED, 'too many bad or rate-limited frames')
  }

  sendError(id: number | undefined, error: RtError): void {
    this.send(this.encoder.encode(errorFrame(id, error)))
  }

  /**
   * Runs a call. The hot path is synchronous: sync validation and a handler that returns a
   * value answer at once, with no await and no in-flight entry. Only a call that goes async
   * (a promise from the input schema, the handler or the output schema) counts as in flight.
   */
  call(f: CallFrame): void | Promise<void> {
    const tel = this.core.telemetry
    this.totals.calls++
    const proc = this.entry.procedures.get(f.p)
    // Only with an SDK registered: `_OTHER` keeps client-chosen names out of the attributes.
    if (!tel.on) return this.run(f, proc, undefined)
    const probe = tel.callStart(f, proc ? f.p : '_OTHER', this.role)
    return tel.within(probe, this.run, this, f, proc, probe)
  }

  private run(f: CallFrame, proc: Procedure | undefined, probe: CallProbe | undefined): void | Promise<void> {
    if (!proc) return this.callError(f, new RtError('NOT_FOUND', `Unknown procedure "${f.p}"`), probe)
    if (this.core.draining) return this.callError(f, SHUTTING_DOWN, probe)
    const inFlight = this.inFlight
    if (inFlight?.has(f.id)) return this.callError(f, new RtError('CONFLICT', `Call id ${f.id} is already in flight`), probe)
    // Checked before the handler runs: it may turn out to be async.
    if (inFlight && inFlight.size >= this.core.limits.maxInFlightCalls) {
      this.core.telemetry.rateLimited('calls')
      return this.callError(f, TOO_MANY_CALLS, probe)
    }
    // Before any schema: a recursive one would recurse as deep as the input goes.
    if (!depthWithin(f.d, this.core.limits.maxInputDepth)) {
      return this.callError(f, new RtError('BAD_REQUEST', `Input nested deeper than ${this.core.limits.maxInputDepth} levels`), probe)
    }
    let frame: Frame
    try {
      const input = this.input(proc.def.input, f)
      if (input instanceof Promise) return this.track(f, input.then((r) => this.invoke(proc, r, f)).then((out) => this.result(f, proc.def.output, out)), probe)
      const output = this.invoke(proc, input, f)
      if (isThenable(output)) return this.track(f, Promise.resolve(output).then((out) => this.result(f, proc.def.output, out)), probe)
      const result = this.result(f, proc.def.output, output)
      if (result instanceof Promise) return this.track(f, result, probe)
      frame = result
    } catch (e) {
      return this.failure(f, e, probe)
    }
    this.answered(frame, undefined, probe)
  }

  /** Sends a call's answer; `code` is its error code (undefined for a result). */
  private answered(frame: Frame, code: string | undefined, probe: CallProbe | undefined): void {
    if (code !== undefined) this.totals.callErrors++
    this.send(frame)
    if (probe) this.core.telemetry.callEnd(probe, code)
  }

  private callError(f: CallFrame, err: RtError, probe: CallProbe | undefined): void {
    this.answered(this.encoder.encode(errorFrame(f.id, err)), err.code, probe)
  }

  /** Validates a call's input; a schema that throws on it (too deep, say) refuses the input. */
  private input(schema: Schema, f: CallFrame): ValidationResult<unknown> | Promise<ValidationResult<unknown>> {
    let r: ValidationResult<unknown> | Promise<ValidationResult<unknown>>
    try {
      r = validate(schema, f.d)
    } catch (e) {
      return this.inputThrew(f, e)
    }
    return r instanceof Promise ? r.catch((e: unknown) => this.inputThrew(f, e)) : r
  }

  private inputThrew(f: CallFrame, e: unknown): never {
    // Answered BAD_REQUEST (the input caused it), reported all the same: the schema may have a bug.
    this.core.report(new RtError('BAD_REQUEST', `Input schema of "${f.p}" threw`, undefined, { cause: e }), { where: 'handler', connId: this.id, procedure: f.p })
    this.core.telemetry.invalid(f.p, 'input')
    throw new RtError('BAD_REQUEST', 'Invalid input')
  }

  private invoke(proc: Procedure, input: ValidationResult<unknown>, f: CallFrame): unknown {
    if (!input.ok) {
      this.core.telemetry.invalid(f.p, 'input')
      throw new RtError('BAD_REQUEST', 'Invalid input', { issues: input.issues })
    }
    return proc.handler(input.value, this.ctx, this)
  }

  private result(f: CallFrame, schema: Schema, output: unknown): Frame | Promise<Frame> {
    if (!this.core.validateOutput) return this.resultFrame(f, output)
    const checked = validate(schema, output)
    return checked instanceof Promise ? checked.then((c) => this.checkedResult(f, c, output)) : this.checkedResult(f, checked, output)
  }

  private checkedResult(f: CallFrame, checked: ValidationResult<unknown>, output: unknown): Frame {
    if (!checked.ok) {
      this.core.telemetry.invalid(f.p, 'output')
      this.core.report(new RtError('INTERNAL', `Output of "${f.p}" does not match the contract`, { issues: checked.issues }), {
        where: 'output',
        connId: this.id,
        procedure: f.p,
      })
      throw new RtError('INTERNAL', 'Internal server error')
    }
    return this.resultFrame(f, output)
  }

  private resultFrame(f: CallFrame, output: unknown): Frame {
    return this.encoder.encode(output === undefined ? { t: 'result', id: f.id } : { t: 'result', id: f.id, d: output })
  }

  /** Answers a call that threw: its error, or INTERNAL (reported) for anything not an RtError. */
  private failure(f: CallFrame, e: unknown, probe: CallProbe | undefined): void {
    const err = toRtError(e)
    if (err.cause !== undefined && err.code === 'INTERNAL') this.core.report(err.cause, { where: 'handler', connId: this.id, procedure: f.p })
    this.callError(f, err, probe)
  }

  /** A call that went async: in flight until it answers. */
  private async track(f: CallFrame, pending: Promise<Frame>, probe: CallProbe | undefined): Promise<void> {
    const inFlight = (this.inFlight ??= new Set())
    inFlight.add(f.id)
    let frame: Frame | undefined
    let error: unknown
    try {
      frame = await pending
    } catch (e) {
      error = e
    }
    // A call failed by shutdown has been answered already.
    if (!inFlight.delete(f.id)) {
      if (probe) this.core.telemetry.callEnd(probe, 'UNAVAILABLE')
      return
    }
    if (inFlight.size === 0 && this.settled) {
      this.settled()
      this.settled = undefined
    }
    if (frame) this.answered(frame, undefined, probe)
    else this.failure(f, error, probe)
  }
}
