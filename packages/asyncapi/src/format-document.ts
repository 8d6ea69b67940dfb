import { stringify } from 'yaml'
import type { AsyncApiDocument } from './document.js'

/** A document as YAML (no anchors or aliases: every `$ref` stays explicit) or as indented JSON. */
export function formatAsyncApi(doc: AsyncApiDocument, format: 'yaml' | 'json' = 'yaml'): string {
  return format === 'json' ? `${JSON.stringify(doc, null, 2)}\n` : stringify(doc, { aliasDuplicateObjects: false, lineWidth: 0 })
}
