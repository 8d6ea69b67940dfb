import type { StandardSchemaV1 } from '@standard-schema/spec'
import { RtError } from './errors.js'

/** Any schema that implements the Standard Schema interface (zod 4, valibot, arktype…). */
export type Schema<I = unknown, O = I> = StandardSchemaV1<I, O>

/** The type a schema accepts. */
export type InferIn<S> = S extends StandardSchemaV1 ? StandardSchemaV1.InferInput<S> : never
/** The type a schema produces after validation. */
export type InferOut<S> = S extends StandardSchemaV1 ? StandardSchemaV1.InferOutput<S> : never

/** One problem found by a schema, in a wire-safe shape. */
export interface SchemaIssue {
  message: string
  path?: (string | number)[]
}

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; issues: SchemaIssue[] }

function toResult<T>(r: StandardSchemaV1.Result<T>): ValidationResult<T> {
  if (r.issues === undefined) return { ok: true, value: r.value }
  return {
    ok: false,
    issues: r.issues.map((i) => {
      const issue: SchemaIssue = { message: i.message }
      if (i.path && i.path.length > 0) {
        issue.path = i.path.map((p) => {
          const k = typeof p === 'object' ? p.key : p
          return typeof k === 'number' ? k : String(k)
        })
      }
      return issue
    }),
  }
}

/**
 * Validates `value` against `schema`. Synchronous schemas (the usual case) answer without a
 * promise, so the hot path pays for no microtask.
 */
export function validate<T>(
  schema: StandardSchemaV1<unknown, T>,
  value: unknown,
): ValidationResult<T> | Promise<ValidationResult<T>> {
  const r = schema['~standard'].validate(value)
  return r instanceof Promise ? r.then(toResult) : toResult(r)
}

/** Outcome of {@link validateSync}: the schema's output, or the error saying why there is none. */
export type SyncResult<T> = { ok: true; value: T } | { ok: false; error: RtError; pending?: Promise<ValidationResult<T>> }

/** The error for a value its schema refuses: BAD_REQUEST "`what` does not match the contract", with the issues. */
export function mismatch(what: string, issues: SchemaIssue[], Err: typeof RtError = RtError): RtError {
  return new Err('BAD_REQUEST', `${what} does not match the contract`, { issues })
}

/**
 * Validates where the answer is needed now: every push path, so pushes keep their order. An
 * asynchronous schema fails as INTERNAL; its `pending` result is kept for a caller that can
 * wait. `Err` is the class of the error (`ContractViolation` for the server's own pushes).
 */
export function validateSync<T>(schema: StandardSchemaV1<unknown, T>, value: unknown, what: string, Err: typeof RtError = RtError): SyncResult<T> {
  const r = validate(schema, value)
  if (r instanceof Promise) return { ok: false, error: new Err('INTERNAL', `${what}: asynchronous schemas cannot validate here`), pending: r }
  return r.ok ? r : { ok: false, error: mismatch(what, r.issues, Err) }
}

export function isSchema(value: unknown): value is Schema {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { '~standard'?: { validate?: unknown } })['~standard']?.validate === 'function'
  )
}
