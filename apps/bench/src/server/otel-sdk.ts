// `RT_BENCH_OTEL=sdk | metrics | traces`: the OpenTelemetry SDK registered in a server process as
// an application would: a MeterProvider read by the Prometheus exporter (pull: recording cost
// only), and/or a TracerProvider sampling every span into a batch processor whose exporter
// drops the batch.
import { context, metrics, propagation, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus'
import { MeterProvider } from '@opentelemetry/sdk-metrics'
import { BatchSpanProcessor, TracerProvider, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace'

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
    trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [new BatchSpanProcessor({ exporter: dropping, maxQueueSize: 65_536, maxExportBatchSize: 4_096, scheduledDelayMillis: 200 })] }))
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
