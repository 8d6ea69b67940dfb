/** A structured logger with pino's `(obj, msg)` call shape; a pino logger fits as is. */
export interface Logger {
  error(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  info(obj: object, msg?: string): void
  debug(obj: object, msg?: string): void
  child?(bindings: object): Logger
}

const detail = (e: unknown): string => (e instanceof Error ? (e.stack ?? e.message) : String(e))

const toStderr = (obj: object, msg?: string): void => {
  const err = (obj as { err?: unknown }).err
  process.stderr.write(`[@rt/server] ${msg ?? 'error'}${err === undefined ? '' : `: ${detail(err)}`}\n`)
}

/** The default logger: errors and warnings to stderr, as one line each (with the stack); info and debug dropped. */
export const stderrLogger: Logger = {
  error: toStderr,
  warn: toStderr,
  info() {},
  debug() {},
}
