import type * as OtelApiModule from '@opentelemetry/api'
import { isRtError } from '@rt/contract'

type OtelApi = typeof OtelApiModule

let api: OtelApi | undefined
// `@opentelemetry/api` is an optional peer: a dynamic import, started when this module loads
// (a bundler includes the package if the app has it, and leaves the import unresolved if not).
// By the first call — after a connect round trip — it has long settled.
void import('@opentelemetry/api').then(
  (m) => (api = m),
  () => undefined,
)

let noopProvider: OtelApiModule.TracerProvider | undefined
let tracer: OtelApiModule.Tracer | undefined
let duration: OtelApiModule.Histogram | undefined

/** One call being timed and traced. */
export interface CallTrace {
  readonly t0: number
  readonly method: string
  readonly span: OtelApiModule.Span | undefined
  /** The trace context for the call frame's `tc`, when there is a span. */
  readonly carrier: Record<string, string> | undefined
}

const CLIENT = 2 // SpanKind.CLIENT
const ERROR = 2 // SpanStatusCode.ERROR

function activeTracer(a: OtelApi): OtelApiModule.Tracer | undefined {
  const tp = a.trace.getTracerProvider()
  const real = tp instanceof a.ProxyTracerProvider ? tp.getDelegate() : tp
  noopProvider ??= new a.ProxyTracerProvider().getDelegate()
  return real === noopProvider ? undefined : (tracer ??= a.trace.getTracer('@rt/client'))
}

function histogram(a: OtelApi): OtelApiModule.Histogram | undefined {
  if (duration) return duration
  const meter = a.metrics.getMeter('@rt/client')
  if (meter === a.createNoopMeter()) return undefined
  return (duration = meter.createHistogram('rpc.client.call.duration', { description: 'Duration of calls made by this client, call to answer', unit: 's' }))
}

/** Starts a CLIENT span (child of the active one) for a call; undefined when no SDK is registered. */
export function startCall(method: string): CallTrace | undefined {
  const a = api
  if (!a) return undefined
  const t = activeTracer(a)
  const h = histogram(a)
  if (!t && !h) return undefined
  const t0 = performance.now()
  if (!t) return { t0, method, span: undefined, carrier: undefined }
  const span = t.startSpan(method, { kind: CLIENT, attributes: { 'rpc.system': 'rt', 'rpc.system.name': 'rt', 'rpc.method': method } })
  const carrier: Record<string, string> = {}
  a.propagation.inject(a.trace.setSpan(a.context.active(), span), carrier)
  return { t0, method, span, carrier: Object.keys(carrier).length > 0 ? carrier : undefined }
}

/** Ends a call's span and records its duration; `error` is what it rejected with, if it did. */
export function endCall(trace: CallTrace, failed: boolean, error?: unknown): void {
  const code = failed ? (isRtError(error) ? error.code : 'ABORTED') : 'OK'
  const attributes: OtelApiModule.Attributes = failed ? { 'rpc.system.name': 'rt', 'rpc.method': trace.method, 'rpc.response.status_code': code, 'error.type': code } : { 'rpc.system.name': 'rt', 'rpc.method': trace.method, 'rpc.response.status_code': code }
  duration?.record((performance.now() - trace.t0) / 1000, attributes)
  const span = trace.span
  if (!span) return
  span.setAttribute('rpc.response.status_code', code)
  if (failed) {
    span.setAttribute('error.type', code)
    span.setStatus({ code: ERROR })
  }
  span.end()
}
