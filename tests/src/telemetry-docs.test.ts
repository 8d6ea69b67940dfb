import { readFileSync } from 'node:fs'
import { expect, it } from 'vitest'
import { CLIENT_METRICS, SERVER_METRICS } from './telemetry/expected.js'

it('docs/observability.md lists exactly the metrics the telemetry tests assert, with their attributes', () => {
  const page = readFileSync(new URL('../../docs/observability.md', import.meta.url), 'utf8')
  const rows = new Map<string, string>()
  for (const m of page.matchAll(/^\| `([a-z_.]+)` \| \w+ \| `[^`]+` \| ([^|]*) \|/gm)) rows.set(m[1]!, m[2]!)
  const expected = { ...SERVER_METRICS, ...CLIENT_METRICS }
  expect([...rows.keys()].sort()).toEqual(Object.keys(expected).sort())
  for (const [name, keys] of Object.entries(expected)) for (const k of keys) expect(rows.get(name), `${name}: ${k}`).toContain(`\`${k}\``)
})
