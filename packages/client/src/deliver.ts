import type { Schema } from '@rt/contract'
import { mismatch, validateSync } from '@rt/contract/internal'

/**
 * Validates an inbound payload and hands the schema's output to `deliver`: synchronously (the
 * check the server uses too) for a synchronous schema, so pushes reach listeners in the order
 * they arrived; an asynchronous schema's verdict is awaited.
 */
export function checkInbound(schema: Schema, payload: unknown, enabled: boolean, what: string, report: (e: unknown) => void, deliver: (value: unknown) => void): void {
  if (!enabled) return deliver(payload)
  const r = validateSync(schema, payload, what)
  if (r.ok) deliver(r.value)
  else if (r.pending) void r.pending.then((v) => (v.ok ? deliver(v.value) : report(mismatch(what, v.issues))))
  else report(r.error)
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
