import type { StandardSchemaV1 } from '@standard-schema/spec'

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

export function isSchema(value: unknown): value is Schema {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { '~standard'?: { validate?: unknown } })['~standard']?.validate === 'function'
  )
}
