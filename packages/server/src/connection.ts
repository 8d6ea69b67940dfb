import {
  CloseCode,
  RtError,
  parseClientFrame,
  toRtError,
  validate,
  type CallFrame,
  type ClientFrame,
  type Encoder,
  type Frame,
  type RoleView,
  type Schema,
} from '@rt/contract'
import type { Limits } from './limits.js'
import type { TransportSocket } from './transport.js'
import type { BaseContext, DisconnectReason, ErrorContext } from './types.js'

type AnyHandler = (input: unknown, ctx: BaseContext, conn: Connection) => unknown

/** What a connection needs from its node. */
export interface NodeCore {
  readonly nodeId: string
  readonly encoder: Encoder
  readonly limits: Limits
  readonly validateOutput: boolean
  readonly draining: boolean
  /** The encoded pong frame. */
  readonly pong: Frame
  handler(role: string, procedure: string): AnyHandler | undefined
  report(error: unknown, context: ErrorContext): void
  detach(conn: Connection, reason: DisconnectReason): void
  /** Frames this connection's role may receive but that only node features handle (topics). */
  onFrame?(conn: Connection, frame: ClientFrame): boolean
}

/**
 * Checks an outbound payload against its schema. Synchronous on purpose: pushes keep their
 * order, so a schema that validates asynchronously cannot be used for server→client payloads.
 */
export function checkPayload(schema: Schema, payload: unknown, what: string): void {
  const r = validate(schema, payload)
  if (r instanceof Promise) throw new RtError('INTERNAL', `${what}: async schemas cannot validate server→client payloads`)
  if (!r.ok) throw new RtError('BAD_REQUEST', `${what}: payload does not match the contract`, { issues: r.issues })
}

/** One authenticated client connection on this node. */
export class Connection {
  readonly since = Date.now()
  lastSeen = performance.now()
  closed = false
  // Made on the first call: an idle connection keeps no Set (~130 B).
  private inFlight: Set<number> | undefined
  private sent = 0
  // Token bucket (see limits.ts), kept inline: one object less per connection.
  private tokens: number
  private refilled = performance.now()
  private strikes = 0
  private settled: (() => void) | undefined

  constructor(
    readonly id: string,
    readonly role: string,
    readonly ctx: BaseContext,
    readonly view: RoleView,
    readonly socket: TransportSocket,
    private readonly core: NodeCore,
  ) {
    this.tokens = core.limits.rateBurst
  }

  get nodeId(): string {
    return this.core.nodeId
  }

  get inFlightCalls(): number {
    return this.inFlight?.size ?? 0
  }

  emit(event: string, payload: unknown): void {
    const def = this.view.events.get(event)
    if (!def) throw new RtError('NOT_FOUND', `Event "${event}" is not in role "${this.role}"'s vocabulary`)
    if (this.core.validateOutput) checkPayload(def.payload, payload, `emit("${event}")`)
    this.send(this.core.encoder.encode({ t: 'event', n: event, d: payload }))
  }

  /** Sends an encoded frame; closes the connection if its outbound buffer is over the limit. */
  send(frame: Frame): void {
    if (this.closed) return
    this.socket.send(frame)
    // Reading the buffered amount walks the socket's write state (2.8 % of a ws fan-out):
    // every 16th frame, or a large one, bounds the overshoot to 16 frames.
    if ((++this.sent & 15) !== 0 && (typeof frame === 'string' ? frame.length : frame.byteLength) < 16_384) return
    if (this.socket.bufferedAmount > this.core.limits.maxBufferedBytes) {
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

  receive(data: Frame): void {
    this.lastSeen = performance.now()
    let frame: ClientFrame | null
    try {
      frame = parseClientFrame(this.core.encoder.decode(data))
    } catch {
      frame = null
    }
    if (!frame) {
      this.send(this.core.encoder.encode({ t: 'error', code: 'BAD_REQUEST', message: 'Malformed frame' }))
      return this.strike()
    }
    if (!this.takeToken()) {
      if (frame.t === 'call' || frame.t === 'sub') this.sendError(frame.id, new RtError('RATE_LIMITED', 'Too many messages'))
      return this.strike()
    }
    this.strikes = 0
    if (frame.t === 'pong') return
    if (frame.t === 'ping') return this.send(this.core.pong)
    if (frame.t === 'call') {
      void this.call(frame)
      return
    }
    if (this.core.onFrame?.(this, frame)) return
    if (frame.t === 'sub') return this.sendError(frame.id, new RtError('NOT_FOUND', `Unknown topic "${frame.n}"`))
    if (frame.t === 'hello') {
      this.send(this.core.encoder.encode({ t: 'error', code: 'BAD_REQUEST', message: 'Already authenticated' }))
    }
  }

  private takeToken(): boolean {
    const now = performance.now()
    const { ratePerSecond, rateBurst } = this.core.limits
    this.tokens = Math.min(rateBurst, this.tokens + ((now - this.refilled) * ratePerSecond) / 1000)
    this.refilled = now
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }

  private strike(): void {
    if (++this.strikes >= this.core.limits.rateStrikes) this.close(CloseCode.RATE_LIMITED, 'too many bad or rate-limited frames')
  }

  sendError(id: number | undefined, error: RtError): void {
    const frame: Record<string, unknown> = { t: 'error', code: error.code, message: error.message }
    if (id !== undefined) frame.id = id
    if (error.data !== undefined) frame.data = error.data
    this.send(this.core.encoder.encode(frame))
  }

  private async call(f: CallFrame): Promise<void> {
    const def = this.view.procedures.get(f.p)
    if (!def) return this.sendError(f.id, new RtError('NOT_FOUND', `Unknown procedure "${f.p}"`))
    if (this.core.draining) return this.sendError(f.id, new RtError('UNAVAILABLE', 'Server is shutting down'))
    const inFlight = (this.inFlight ??= new Set())
    if (inFlight.has(f.id)) return this.sendError(f.id, new RtError('CONFLICT', `Call id ${f.id} is already in flight`))
    if (inFlight.size >= this.core.limits.maxInFlightCalls) {
      return this.sendError(f.id, new RtError('RATE_LIMITED', 'Too many calls in flight'))
    }
    inFlight.add(f.id)
    let frame: Frame
    try {
      const input = await validate(def.input, f.d)
      if (!input.ok) throw new RtError('BAD_REQUEST', 'Invalid input', { issues: input.issues })
      const handler = this.core.handler(this.role, f.p)
      if (!handler) throw new RtError('NOT_FOUND', `Unknown procedure "${f.p}"`)
      const output = await handler(input.value, this.ctx, this)
      if (this.core.validateOutput) {
        const checked = await validate(def.output, output)
        if (!checked.ok) {
          this.core.report(new RtError('INTERNAL', `Output of "${f.p}" does not match the contract`, { issues: checked.issues }), {
            where: 'output',
            connId: this.id,
            procedure: f.p,
          })
          throw new RtError('INTERNAL', 'Internal server error')
        }
      }
      frame = this.core.encoder.encode(output === undefined ? { t: 'result', id: f.id } : { t: 'result', id: f.id, d: output })
    } catch (e) {
      const err = toRtError(e)
      if (err.cause !== undefined && err.code === 'INTERNAL') this.core.report(err.cause, { where: 'handler', connId: this.id, procedure: f.p })
      const out: Record<string, unknown> = { t: 'error', id: f.id, code: err.code, message: err.message }
      if (err.data !== undefined) out.data = err.data
      frame = this.core.encoder.encode(out)
    }
    // A call failed by shutdown has been answered already.
    if (!inFlight.delete(f.id)) return
    this.send(frame)
    if (inFlight.size === 0 && this.settled) {
      this.settled()
      this.settled = undefined
    }
  }
}
