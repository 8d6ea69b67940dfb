import type { Schema } from '@rt/contract'
import type { Field } from './frames.js'
import { acceptsUndefined, toJsonSchema, type JsonSchema } from './json-schema.js'

/** An AsyncAPI 3.0.0 document as a plain object, ready for `JSON.stringify` or a YAML writer. */
export interface AsyncApiDocument {
  asyncapi: '3.0.0'
  info: { title: string; version: string; description?: string; tags?: { name: string; description?: string }[]; [extension: `x-${string}`]: unknown }
  servers?: Record<string, AsyncApiServer>
  defaultContentType: string
  channels: Record<string, Record<string, unknown>>
  operations: Record<string, Record<string, unknown>>
  components: { schemas: Record<string, JsonSchema>; messages: Record<string, Record<string, unknown>> }
}

/** An AsyncAPI 3.0 Server Object: where clients connect. */
export interface AsyncApiServer {
  host: string
  protocol: string
  pathname?: string
  description?: string
  [extension: `x-${string}`]: unknown
}

/** A converted contract schema placed in `components.schemas`: the field to plug into a frame, and what the document knows of it. */
export interface PlacedSchema {
  field: Field
  /** The JSON Schema itself (with its own `$ref`s unresolved), for parameters and examples. */
  json: JsonSchema
  notes: string[]
}

const ID = /[^A-Za-z0-9_.-]/g

/** Holds the document while it is built: unique ids, component schemas, channels and operations. */
export class DocumentBuilder {
  readonly channels: AsyncApiDocument['channels'] = {}
  readonly operations: AsyncApiDocument['operations'] = {}
  readonly schemas: Record<string, JsonSchema> = {}
  readonly messages: AsyncApiDocument['components']['messages'] = {}
  private readonly taken = new Map<string, Set<string>>()

  /** A key for `channels`, `operations` or `schemas` made of what AsyncAPI allows there, unique among them. */
  id(where: 'channels' | 'operations' | 'schemas', ...parts: string[]): string {
    const taken = this.taken.get(where) ?? new Set<string>()
    this.taken.set(where, taken)
    const base = parts.map((p) => p.replace(ID, '_')).join('.') || '_'
    let id = base
    for (let n = 2; taken.has(id); n++) id = `${base}_${n}`
    taken.add(id)
    return id
  }

  /** Converts a contract schema into `components.schemas.<id>` and returns how a frame refers to it. */
  schema(schema: Schema, ...name: string[]): PlacedSchema {
    const id = this.id('schemas', ...name)
    const { schema: json, notes } = toJsonSchema(schema)
    const at = `#/components/schemas/${id}`
    this.schemas[id] = rebase(json, at) as JsonSchema
    return { field: { schema: { $ref: at }, required: !acceptsUndefined(schema) }, json, notes }
  }

  /** A `$ref` to a channel. */
  channelRef(channel: string): { $ref: string } {
    return { $ref: `#/channels/${channel}` }
  }

  /** A `$ref` to a message of a channel, the form operations must use. */
  messageRef(channel: string, message: string): { $ref: string } {
    return { $ref: `#/channels/${channel}/messages/${message}` }
  }
}

/** Points a schema's own `$ref`s (`#`, `#/definitions/…`) at where it now sits in the document. */
function rebase(value: unknown, at: string): unknown {
  if (Array.isArray(value)) return value.map((v) => rebase(v, at))
  if (typeof value !== 'object' || value === null) return value
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) {
    out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#') ? at + v.slice(1) : rebase(v, at)
  }
  return out
}

/** The `examples` a schema declares (zod: `.meta({ examples })`), at most three. */
export function examplesOf(json: JsonSchema): unknown[] {
  const ex = json.examples
  if (Array.isArray(ex)) return ex.slice(0, 3)
  return ex !== undefined && typeof ex === 'object' && ex !== null ? Object.values(ex).slice(0, 3) : []
}

/** The `description` a schema declares (zod: `.describe()` or `.meta({ description })`). */
export function descriptionOf(json: JsonSchema): string | undefined {
  return typeof json.description === 'string' && !json['x-rt-unrepresentable'] && !json['x-rt-unconvertible'] ? json.description : undefined
}
