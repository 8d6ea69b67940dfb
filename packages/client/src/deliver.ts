import { RtError, validate, type Schema } from '@rt/contract'

/**
 * Validates an inbound payload and hands the schema's output to `deliver`. Synchronous for
 * synchronous schemas, so pushes reach listeners in the order they arrived.
 */
export function checkInbound(schema: Schema, payload: unknown, enabled: boolean, what: string, report: (e: unknown) => void, deliver: (value: unknown) => void): void {
  if (!enabled) return deliver(payload)
  const handle = (r: Awaited<ReturnType<typeof validate>>) =>
    r.ok ? deliver(r.value) : report(new RtError('BAD_REQUEST', `${what} does not match the contract`, { issues: r.issues }))
  const r = validate(schema, payload)
  if (r instanceof Promise) void r.then(handle)
  else handle(r)
}

/** Calls every listener; one that throws is reported and does not stop the others. */
export function callEach(listeners: Iterable<(value: unknown) => void>, value: unknown, report: (e: unknown) => void): void {
  for (const l of [...listeners]) {
    try {
      l(value)
    } catch (e) {
      report(e)
    }
  }
}
