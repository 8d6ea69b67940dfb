import type { Context, Span, Tracer } from '@opentelemetry/api'
import type { CallFrame, Frame } from '@rt/contract'
import { decodeEnvelopeMeta, encodeEnvelopeMeta } from '@rt/contract/internal'
import type { FanoutProbe } from '@rt/rooms'
import { closeCodeAttr } from './attrs.js'
import { Instruments, type Observed } from './instruments.js'
import { meterOf, tracingOn, type OtelApi } from './otel.js'
import { createTotals, frameSize, type Totals } from './totals.js'

/** What a fan-out delivers: a room broadcast, a topic publish, a send to one connection or to a user. */
export type FanoutKind = 'room' | 'topic' | 'conn' | 'user'

/** One call being timed (and traced); made only while an SDK is registered. */
export interface CallProbe {
  readonly t0: number
  readonly method: string
  readonly span: Span | undefined
  readonly ctx: Context | undefined
}

// Numeric SpanKind / SpanStatusCode values of the API (stable since 1.0): no import at runtime.
const SERVER = 1
const PRODUCER = 3
const CONSUMER = 4
const ERROR = 2

/**
 * A node's telemetry. Totals always; metrics and spans once `start` found an SDK. Hot paths
 * test `on` (one field) and never call an instrument per socket: a fan-out is counted once,
 * with its recipient count.
 */
export class Telemetry {
  readonly totals: Totals = createTotals()
  /** True while metrics or traces are recorded. */
  on = false
  private api: OtelApi | undefined
  private m: Instruments | undefined
  private tracer: Tracer | undefined

  /** Looks for a registered SDK (once, at `listen()`); without one, everything stays a counter increment. */
  start(api: OtelApi | undefined, observed: Omit<Observed, 'totals'>): void {
    if (!api || this.on) return
    const meter = meterOf(api, '@rt/server')
    this.api = api
    this.m = meter && new Instruments(meter, { ...observed, totals: this.totals })
    this.tracer = tracingOn(api) ? api.trace.getTracer('@rt/server') : undefined
    this.on = this.m !== undefined || this.tracer !== undefined
  }

  now(): number {
    return this.on ? performance.now() : 0
  }

  // ---- calls ------------------------------------------------------------------------------
  /** Starts timing a call; `method` is the procedure, or `_OTHER` for one the role does not have. */
  callStart(f: CallFrame, method: string, role: string): CallProbe {
    const t0 = performance.now()
    if (!this.tracer) return { t0, method, span: undefined, ctx: undefined }
    const api = this.api!
    const parent = f.tc ? api.propagation.extract(api.context.active(), f.tc) : api.context.active()
    const span = this.tracer.startSpan(method, { kind: SERVER, attributes: { 'rpc.system': 'rt', 'rpc.system.name': 'rt', 'rpc.method': method, 'rt.role': role } }, parent)
    return { t0, method, span, ctx: api.trace.setSpan(parent, span) }
  }

  /** Runs `fn` with the call's span active, so spans the handler makes are its children. */
  within<A extends unknown[], R>(p: CallProbe, fn: (...args: A) => R, self: unknown, ...args: A): R {
    return p.ctx ? this.api!.context.with(p.ctx, fn, self, ...args) : fn.apply(self, args)
  }

  /** The call answered: `code` is its error code, undefined for a result. */
  callEnd(p: CallProbe, code: string | undefined): void {
    this.m?.callDuration.record((performance.now() - p.t0) / 1000, this.m.callAttrs.get(p.method, code ?? ''))
    const span = p.span
    if (!span) return
    span.setAttribute('rpc.response.status_code', code ?? 'OK')
    if (code !== undefined) {
      span.setAttribute('error.type', code)
      span.setStatus({ code: ERROR })
    }
    span.end()
  }

  // ---- connections and limits -------------------------------------------------------------
  accepted(role: string): void {
    this.m?.accepted.add(role, '')
  }

  closed(role: string, code: number): void {
    this.m?.closed.add(role, String(closeCodeAttr(code)))
  }

  refused(code: number): void {
    this.m?.refusals.add(String(closeCodeAttr(code)), '')
  }

  slowConsumer(role: string): void {
    this.m?.slow.add(role, '')
  }

  /** `limit`: messages, bytes or calls (in flight). */
  rateLimited(limit: 'messages' | 'bytes' | 'calls'): void {
    this.m?.rateLimited.add(limit, '')
  }

  invalid(method: string, direction: 'input' | 'output'): void {
    this.m?.invalid.add(method, direction)
  }

  // ---- fan-out ----------------------------------------------------------------------------
  /** A PRODUCER span for a message this node sends, child of whatever span is active; undefined without tracing. */
  begin(kind: FanoutKind, topic?: string): Span | undefined {
    if (!this.tracer) return undefined
    const attributes = { 'messaging.system': 'rt', 'messaging.operation.name': kind === 'topic' ? 'publish' : 'send', 'messaging.operation.type': 'send', 'rt.kind': kind }
    return this.tracer.startSpan(`${attributes['messaging.operation.name']} ${topic ?? kind}`, { kind: PRODUCER, attributes: topic ? { ...attributes, 'messaging.destination.name': topic } : attributes })
  }

  /** The envelope meta to send with it: the send time, and the span's trace context. */
  meta(span: Span | undefined): string | undefined {
    if (!this.on) return undefined
    if (!span) return encodeEnvelopeMeta({ s: Date.now() })
    const api = this.api!
    const c: Record<string, string> = {}
    api.propagation.inject(api.trace.setSpan(api.context.active(), span), c)
    return encodeEnvelopeMeta({ s: Date.now(), c })
  }

  /**
   * A message sent from this node, after its local writes: `recipients` local sockets, `native`
   * the frame when the transport's pub/sub wrote it (Connection.send counts the others).
   */
  sent(span: Span | undefined, kind: FanoutKind, topic: string | undefined, recipients: number, t0: number, native?: Frame): void {
    const t = this.totals
    t.published++
    this.delivered(recipients, native)
    if (!this.on) return
    const m = this.m
    if (m) {
      m.sent.add(kind, topic ?? '')
      this.fanout(m, kind, topic, 'local', recipients, t0)
    }
    if (span) {
      span.setAttribute('rt.recipients', recipients)
      span.end()
    }
  }

  /** A peer's message handled here, after its local writes; its meta gives the bus lag and the parent span. */
  received(kind: FanoutKind, topic: string | undefined, meta: string | undefined, recipients: number, t0: number, native?: Frame): void {
    this.delivered(recipients, native)
    if (!this.on) return
    const m = this.m
    const parsed = meta === undefined ? undefined : decodeEnvelopeMeta(meta)
    if (m) {
      if (parsed) m.busLag.record(Math.max(0, Date.now() - parsed.s) / 1000, m.kindAttrs.get('rt.kind', kind))
      this.fanout(m, kind, topic, 'peer', recipients, t0)
    }
    if (!this.tracer || !parsed?.c) return
    const api = this.api!
    const parent = api.propagation.extract(api.context.active(), parsed.c)
    const attributes = { 'messaging.system': 'rt', 'messaging.operation.name': 'process', 'messaging.operation.type': 'process', 'rt.kind': kind, 'rt.recipients': recipients }
    const span = this.tracer.startSpan(`process ${topic ?? kind}`, { kind: CONSUMER, startTime: t0, attributes: topic ? { ...attributes, 'messaging.destination.name': topic } : attributes }, parent)
    span.end()
  }

  /** The fan-out hooks of the room registry (a room has no topic). */
  roomProbe(): FanoutProbe {
    return {
      now: () => this.now(),
      begin: () => this.begin('room'),
      meta: (span) => this.meta(span as Span | undefined),
      sent: (span, n, t0, native) => this.sent(span as Span | undefined, 'room', undefined, n, t0, native),
      received: (meta, n, t0, native) => this.received('room', undefined, meta, n, t0, native),
    }
  }

  private delivered(recipients: number, native: Frame | undefined): void {
    const t = this.totals
    t.delivered += recipients
    if (native !== undefined && recipients > 0) {
      t.framesOut += recipients
      t.bytesOut += recipients * frameSize(native)
    }
  }

  private fanout(m: Instruments, kind: FanoutKind, topic: string | undefined, origin: string, recipients: number, t0: number): void {
    if (recipients > 0) m.deliveries.add(kind, topic ?? '', recipients)
    m.fanout.record((performance.now() - t0) / 1000, m.fanoutAttrs.get(topic ? `${kind}\n${topic}` : kind, origin))
  }
}
