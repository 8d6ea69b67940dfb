// Runs the official AsyncAPI parser in a child process. Vitest's workers run with
// `--conditions import`, under which CommonJS `require` picks ESM files of the parser's
// dependencies (nimma) and fails; a plain Node child loads it as published.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** What the parser says about one document, and what it read from it. */
export interface Parsed {
  /** Every diagnostic: severity 0 error, 1 warning, 2 info, 3 hint. */
  diagnostics: { severity: number; code: string; path: string; message: string }[]
  operations: { id: string; action: string; messages: string[]; reply?: string[]; payload?: unknown }[]
  channels: { id: string; address: string | null | undefined; parameters: string[]; history?: unknown }[]
}

const SCRIPT = `
import { Parser } from '@asyncapi/parser'
let input = ''
for await (const chunk of process.stdin) input += chunk
const parser = new Parser()
// Payloads of recursive schemas are circular once their $refs are resolved.
const plain = (v) => { const seen = new WeakSet(); return JSON.parse(JSON.stringify(v, (_k, x) => { if (typeof x === 'object' && x !== null) { if (seen.has(x)) return '[Circular]'; seen.add(x) } return x })) }
const out = []
for (const doc of JSON.parse(input)) {
  const parsed = await parser.parse(doc)
  const { document } = parsed
  const diagnostics = parsed.diagnostics.map((d) => ({ severity: d.severity, code: String(d.code), path: d.path.join('/'), message: d.message }))
  out.push({
    diagnostics,
    operations: document ? document.operations().all().map((o) => ({
      id: o.id(), action: o.action(), messages: o.messages().all().map((m) => m.name()),
      reply: o.reply()?.messages().all().map((m) => m.name()),
      payload: plain(o.messages().all()[0]?.payload()?.json()),
    })) : [],
    channels: document ? document.channels().all().map((c) => ({ id: c.id(), address: c.address(), parameters: c.parameters().all().map((p) => p.id()), history: c.json()['x-rt-history'] })) : [],
  })
}
process.stdout.write(JSON.stringify(out))
`

/** Validates and parses each document (JSON or YAML text) with @asyncapi/parser. */
export function parseAsyncApi(docs: string[]): Promise<Parsed[]> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      ['--input-type=module', '-e', SCRIPT],
      { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8', maxBuffer: 256 << 20, env: { ...process.env, NODE_OPTIONS: '' } },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout) as Parsed[])),
    )
    child.stdin!.end(JSON.stringify(docs))
  })
}

/** The diagnostics of severity error, as readable lines. */
export const errorsOf = (p: Parsed): string[] => p.diagnostics.filter((d) => d.severity === 0).map((d) => `${d.code} ${d.path}: ${d.message}`)
