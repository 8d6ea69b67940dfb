// The OpenTelemetry SDK registered globally with in-memory exporters, as an application would
// register its own before `listen()`. Once per test process (vitest runs each file in its own).
import { context, metrics, propagation, trace, type Attributes } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { MeterProvider, MetricReader, type DataPoint } from '@opentelemetry/sdk-metrics'
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace'

class TestReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

/** One exported metric, flattened: its instrument and every data point. */
export interface ExportedMetric {
  name: string
  unit: string
  type: string
  points: { attributes: Attributes; value: unknown }[]
}

export interface OtelSdk {
  /** Every span ended so far (exports are asynchronous: flushed first). */
  spans(): Promise<ReadableSpan[]>
  /** Collects every instrument now (observables run their callbacks). */
  metrics(): Promise<Map<string, ExportedMetric>>
  /** Sum of a counter's points whose attributes include `match`. */
  sum(all: Map<string, ExportedMetric>, name: string, match?: Attributes): number
}

let sdk: OtelSdk | undefined

export function registerOtelSdk(): OtelSdk {
  if (sdk) return sdk
  const exporter = new InMemorySpanExporter()
  const processor = new SimpleSpanProcessor({ exporter })
  trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [processor] }))
  const reader = new TestReader()
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }))
  propagation.setGlobalPropagator(new W3CTraceContextPropagator())
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  const matches = (a: Attributes, m: Attributes) => Object.entries(m).every(([k, v]) => a[k] === v)
  sdk = {
    async spans() {
      await processor.forceFlush()
      return exporter.getFinishedSpans()
    },
    async metrics() {
      const { resourceMetrics } = await reader.collect()
      const out = new Map<string, ExportedMetric>()
      for (const scope of resourceMetrics.scopeMetrics) {
        for (const m of scope.metrics) {
          const points = (m.dataPoints as DataPoint<unknown>[]).map((p) => ({ attributes: p.attributes, value: p.value }))
          out.set(m.descriptor.name, { name: m.descriptor.name, unit: m.descriptor.unit, type: String(m.dataPointType), points })
        }
      }
      return out
    },
    sum(all, name, match = {}) {
      let n = 0
      for (const p of all.get(name)?.points ?? []) {
        if (!matches(p.attributes, match)) continue
        const v = p.value
        n += typeof v === 'number' ? v : ((v as { count?: number }).count ?? 0)
      }
      return n
    },
  }
  return sdk
}
