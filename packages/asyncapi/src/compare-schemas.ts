import type { Schema } from '@rt/contract'
import { toJsonSchema } from './json-schema.js'
import { subsetProblems, type SubsetProblem } from './schema-subset.js'
import { constraintsOnly, deepEqual } from './schema-util.js'

/** How the values accepted by one schema relate to another's. */
export interface SchemaDiff {
  /** Why some value accepted by `from` may be refused by `to`; empty when `to` accepts all of them. */
  problems: SubsetProblem[]
  /** False when both accept the same values, as far as their JSON Schemas tell. */
  changed: boolean
}

/** Compares two contract schemas through their JSON Schemas: does `to` accept every value `from` accepts? */
export function compareSchemas(from: Schema, to: Schema): SchemaDiff {
  if (from === to) return { problems: [], changed: false }
  const a = toJsonSchema(from).schema
  const b = toJsonSchema(to).schema
  if (deepEqual(a, b)) return { problems: [], changed: false }
  const problems = subsetProblems(a, b)
  // Both ways a subset can still differ: an optional field added is a change worth listing.
  return { problems, changed: problems.length > 0 || !deepEqual(constraintsOnly(a), constraintsOnly(b)) }
}
