import { basename } from 'node:path'
import { parseArgs } from 'node:util'
import { checkCompat } from './check-compat.js'
import { formatAsyncApi } from './format-document.js'
import { formatCompatReport } from './format-report.js'
import { UNCONVERTIBLE, UNREPRESENTABLE } from './json-schema.js'
import { CliError, loadContract, nearestPackage } from './load-contract.js'
import { toAsyncApi } from './to-asyncapi.js'

/** Where the command writes. */
export interface CliIo {
  stdout(text: string): void
  stderr(text: string): void
}

/** The command's help text. */
export const USAGE = `Usage:
  rt asyncapi <contract.ts> [options]        AsyncAPI 3.0 document of a contract, on stdout
      --export <name>          the export that holds the contract (default: contract, default, or the only one)
      --title <text>           info.title (default: name in the nearest package.json)
      --version <v>            info.version (default: version in the nearest package.json, else 0.0.0)
      --description <text>     prepended to info.description
      --server <[name=]url>    a ws:// or wss:// URL clients connect to; repeatable
      --format yaml|json       default: yaml
  rt check-compat <old.ts> <new.ts> [options]  changes that break clients built against old.ts
      --export <name>          the export that holds the contract, in both files
      --allow-possible         possibly breaking changes do not fail the check
      --no-safe                do not list safe changes
      --json                   the report as JSON
Exit codes: 0 ok, 1 breaking changes, 2 usage or load error.
`

/** Runs the `rt` command with its arguments (without `node` and the script); resolves with the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  try {
    const [command, ...rest] = argv
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      io[command === undefined ? 'stderr' : 'stdout'](USAGE)
      return command === undefined ? 2 : 0
    }
    if (command === 'asyncapi') return await asyncapi(rest, io)
    if (command === 'check-compat') return await compat(rest, io)
    throw new CliError(`unknown command "${command}"\n\n${USAGE}`)
  } catch (e) {
    if (e instanceof CliError) {
      io.stderr(`rt: ${e.message}\n`)
      return e.exitCode
    }
    // parseArgs: an unknown option, a missing value.
    if (e instanceof TypeError && 'code' in e && String(e.code).startsWith('ERR_PARSE_ARGS')) {
      io.stderr(`rt: ${e.message}\n\n${USAGE}`)
      return 2
    }
    io.stderr(`rt: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`)
    return 2
  }
}

function files(positionals: string[], n: number, what: string): string[] {
  if (positionals.length !== n) throw new CliError(`${what} (got ${positionals.length} file${positionals.length === 1 ? '' : 's'})\n\n${USAGE}`)
  return positionals
}

async function asyncapi(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      export: { type: 'string' },
      title: { type: 'string' },
      version: { type: 'string' },
      description: { type: 'string' },
      server: { type: 'string', multiple: true },
      format: { type: 'string', default: 'yaml' },
    },
  })
  const [file] = files(positionals, 1, 'asyncapi takes one contract file')
  if (values.format !== 'yaml' && values.format !== 'json') throw new CliError(`--format must be yaml or json, not "${values.format}"`)
  const loaded = await loadContract(file!, values.export)
  const pkg = nearestPackage(loaded.file)
  const servers: Record<string, string> = {}
  for (const [i, s] of (values.server ?? []).entries()) {
    const m = /^([A-Za-z0-9_.-]+)=(.+)$/.exec(s)
    servers[m ? m[1]! : i === 0 ? 'default' : `server${i + 1}`] = m ? m[2]! : s
  }
  let doc
  try {
    doc = toAsyncApi(loaded.contract, {
      title: values.title ?? pkg.name ?? basename(loaded.file).replace(/\.[cm]?[jt]s$/, ''),
      version: values.version ?? pkg.version ?? '0.0.0',
      ...(values.description ? { description: values.description } : {}),
      ...(Object.keys(servers).length ? { servers } : {}),
    })
  } catch (e) {
    throw new CliError(e instanceof Error ? e.message : String(e))
  }
  for (const note of notes(doc.components.schemas)) io.stderr(`rt: note: ${note}\n`)
  io.stdout(formatAsyncApi(doc, values.format))
  return 0
}

async function compat(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      export: { type: 'string' },
      'allow-possible': { type: 'boolean', default: false },
      'no-safe': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  })
  const [oldFile, newFile] = files(positionals, 2, 'check-compat takes the old and the new contract file')
  const older = await loadContract(oldFile!, values.export)
  const newer = await loadContract(newFile!, values.export)
  const report = checkCompat(older.contract, newer.contract)
  const allowPossible = values['allow-possible']
  if (values.json) io.stdout(`${JSON.stringify(report, null, 2)}\n`)
  else io.stdout(formatCompatReport(report, { safe: !values['no-safe'], allowPossible }))
  return report.breaking > 0 || (!allowPossible && report.possiblyBreaking > 0) ? 1 : 0
}

/** Where a document's schemas accept any value because the contract's schema has no JSON Schema form. */
function notes(schemas: Record<string, unknown>): string[] {
  const out: string[] = []
  const walk = (v: unknown, at: string) => {
    if (typeof v !== 'object' || v === null) return
    const o = v as Record<string, unknown>
    if (o[UNREPRESENTABLE] !== undefined || o[UNCONVERTIBLE] !== undefined) out.push(`${at}: ${String(o.description ?? '')}`)
    for (const [k, x] of Object.entries(o)) walk(x, `${at}/${k}`)
  }
  for (const [id, s] of Object.entries(schemas)) walk(s, `#/components/schemas/${id}`)
  return out
}
