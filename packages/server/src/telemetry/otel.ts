import type * as OtelApiModule from '@opentelemetry/api'

/** `@opentelemetry/api` as this package uses it. */
export type OtelApi = typeof OtelApiModule

let loading: Promise<OtelApi | undefined> | undefined

/**
 * Loads `@opentelemetry/api` once, with a dynamic `import()`: it is an optional peer, so a
 * missing package resolves to undefined instead of failing the import of @rt/server. Resolved
 * by `listen()`, so an SDK must be registered before it (see docs/observability.md).
 */
export function loadOtel(): Promise<OtelApi | undefined> {
  return (loading ??= import('@opentelemetry/api').then(
    (m) => m,
    () => undefined,
  ))
}

/** True when an SDK tracer provider is registered (the global proxy has a delegate). */
export function tracingOn(api: OtelApi): boolean {
  const tp = api.trace.getTracerProvider()
  const real = tp instanceof api.ProxyTracerProvider ? tp.getDelegate() : tp
  // A fresh proxy's delegate is the API's no-op provider.
  return real !== new api.ProxyTracerProvider().getDelegate()
}

/** The meter `name`, or undefined when no SDK meter provider is registered. */
export function meterOf(api: OtelApi, name: string): OtelApiModule.Meter | undefined {
  const meter = api.metrics.getMeter(name)
  return meter === api.createNoopMeter() ? undefined : meter
}
