// `RT_BENCH_OTEL=sdk | sampled | metrics | traces`: the OpenTelemetry SDK registered in a server
// process as an application would: a MeterProvider read by the Prometheus exporter (pull:
// recording cost only), and/or a TracerProvider with a batch processor (the SDK's default queue
// and batch sizes) whose exporter drops the batch. `sdk` and `traces` sample every span;
// `sampled` samples 1 % of root traces (parent-based), the usual production setting.
import { context, metrics, propagation, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus'
import { MeterProvider } from '@opentelemetry/sdk-metrics'
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace'

let exported = 0
/** Counts what it is given and sends it nowhere: the cost measured is the SDK's, not a network's. */
const dropping: SpanExporter = {
  export(spans: ReadableSpan[], done) {
    exported += spans.length
    done({ code: 0 })
  },
  shutdown: async () => {},
}

export function registerOtelSdk(mode: string): { spans: () => number; scrape: () => Promise<string> } {
  if (mode !== 'metrics') {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
    propagation.setGlobalPropagator(new W3CTraceContextPropagator())
    const sampler = mode === 'sampled' ? { sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.01) }) } : {}
    trace.setGlobalTracerProvider(new TracerProvider({ ...sampler, spanProcessors: [new BatchSpanProcessor({ exporter: dropping })] }))
  }
  const prometheus = new PrometheusExporter({ preventServerStart: true })
  if (mode !== 'traces') metrics.setGlobalMeterProvider(new MeterProvider({ readers: [prometheus] }))
  return {
    spans: () => exported,
    async scrape() {
      const { resourceMetrics } = await prometheus.collect()
      return JSON.stringify(resourceMetrics.scopeMetrics.map((s) => s.metrics.map((m) => m.descriptor.name)))
    },
  }
}
