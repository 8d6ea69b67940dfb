import { validate, type Schema } from '@rt/contract'
import { ContractViolation } from '@rt/contract/internal'

/**
 * Checks an outbound payload against its schema. Synchronous on purpose: pushes keep their
 * order, so a schema that validates asynchronously cannot be used for server→client payloads.
 * A failure is the server's own bug: `ContractViolation`, which ends a client's call as INTERNAL.
 */
export function checkPayload(schema: Schema, payload: unknown, what: string): void {
  const r = validate(schema, payload)
  if (r instanceof Promise) throw new ContractViolation('INTERNAL', `${what}: async schemas cannot validate server→client payloads`)
  if (!r.ok) throw new ContractViolation('BAD_REQUEST', `${what}: payload does not match the contract`, { issues: r.issues })
}
