import { existsSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { isSchema, type AnyContract } from '@rt/contract'

/** An error the `rt` command reports as one line on stderr, exiting with `exitCode`. */
export class CliError extends Error {
  override readonly name = 'CliError'
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message)
  }
}

/** A contract loaded from a file, and the name of the export it came from. */
export interface LoadedContract {
  contract: AnyContract
  exportName: string
  file: string
}

/**
 * Loads a contract from a `.ts` (or `.js`) file with tsx, so it works on Node 20 without a
 * build: the export `exportName`, else `contract`, else the default export, else the only export
 * that is a contract.
 */
export async function loadContract(file: string, exportName?: string): Promise<LoadedContract> {
  const path = resolve(file)
  if (!existsSync(path) || !statSync(path).isFile()) throw new CliError(`cannot find the contract file ${file}`)
  let mod: Record<string, unknown>
  try {
    const { tsImport } = await import('tsx/esm/api')
    mod = (await tsImport(pathToFileURL(path).href, import.meta.url)) as Record<string, unknown>
  } catch (e) {
    // esbuild puts the useful part (file:line: ERROR: …) on the lines after its first.
    const lines = (e instanceof Error ? e.message : String(e)).split('\n').map((l) => l.trim()).filter(Boolean)
    throw new CliError(`${file} could not be loaded: ${lines.slice(0, 3).join(' ')}`)
  }
  const names = Object.keys(mod).filter((n) => n !== '__esModule' && n !== 'module.exports')
  if (exportName !== undefined) {
    if (!Object.hasOwn(mod, exportName)) throw new CliError(`${file} has no export "${exportName}" (it exports: ${names.join(', ') || 'nothing'})`)
    const value = mod[exportName]
    if (!isContract(value)) throw new CliError(`export "${exportName}" of ${file} is not a contract: expected what defineContract returns`)
    return { contract: value, exportName, file: path }
  }
  for (const n of ['contract', 'default']) {
    const value = mod[n]
    if (isContract(value)) return { contract: value, exportName: n, file: path }
  }
  const found = names.filter((n) => isContract(mod[n]))
  if (found.length === 1) return { contract: mod[found[0]!] as AnyContract, exportName: found[0]!, file: path }
  if (found.length > 1) throw new CliError(`${file} exports several contracts (${found.join(', ')}): pick one with --export <name>`)
  throw new CliError(`${file} exports no contract: export what defineContract returns (as "contract" or default), or name it with --export <name>`)
}

/** True for a value shaped like what `defineContract` returns. */
export function isContract(value: unknown): value is AnyContract {
  if (typeof value !== 'object' || value === null) return false
  const { roles, shared } = value as { roles?: unknown; shared?: unknown }
  if (typeof roles !== 'object' || roles === null || Object.keys(roles).length === 0) return false
  return [shared ?? {}, ...Object.values(roles)].every(isVocabulary)
}

function isVocabulary(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false
  const { clientToServer = {}, serverToClient = {} } = v as { clientToServer?: unknown; serverToClient?: unknown }
  if (typeof clientToServer !== 'object' || clientToServer === null || typeof serverToClient !== 'object' || serverToClient === null) return false
  const procs = Object.values(clientToServer).every((p) => typeof p === 'object' && p !== null && isSchema(p.input) && isSchema(p.output))
  return procs && Object.values(serverToClient).every((m) => typeof m === 'object' && m !== null && isSchema(m.payload))
}

/** `name` and `version` of the package.json nearest to a file, for the document's defaults. */
export function nearestPackage(file: string): { name?: string; version?: string } {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json')
    if (existsSync(pkg)) {
      try {
        const { name, version } = JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown; version?: unknown }
        return { ...(typeof name === 'string' ? { name } : {}), ...(typeof version === 'string' ? { version } : {}) }
      } catch {
        return {}
      }
    }
    if (dirname(dir) === dir) return {}
  }
}
