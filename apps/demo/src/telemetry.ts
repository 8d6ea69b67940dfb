// The OpenTelemetry Node SDK, as an application wires it: @rt/server records through
// @opentelemetry/api, and this SDK gathers it. Metrics are served at /metrics in Prometheus'
// text format by the page server (no port of its own). Traces go wherever the standard
// OTEL_* variables say (e.g. OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 for a collector,
// OTEL_TRACES_EXPORTER=console to print them); without those, none are exported.
// Imported first by node.ts, so the SDK is registered before the server starts.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus'
import { NodeSDK } from '@opentelemetry/sdk-node'

const env = process.env
const prometheus = new PrometheusExporter({ preventServerStart: true })
const tracesConfigured = Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_TRACES_EXPORTER)

const sdk = new NodeSDK({
  serviceName: 'rt-demo',
  metricReaders: [prometheus],
  instrumentations: [],
  // An empty list: no trace pipeline unless the environment asks for one.
  ...(tracesConfigured ? {} : { spanProcessors: [] }),
})
sdk.start()

/** `GET /metrics`: everything the node recorded, in Prometheus' text format. */
export function serveMetrics(req: IncomingMessage, res: ServerResponse): void {
  prometheus.getMetricsRequestHandler(req, res)
}

export const stopTelemetry = (): Promise<void> => sdk.shutdown()
