// Picks the WebSocket transport: `ws` shares the page's HTTP port; uWebSockets.js runs its own.
import type { Server as HttpServer } from 'node:http'
import type { Transport } from '@rt/server'
import { createWsTransport } from '@rt/transport-ws'

export type TransportKind = 'ws' | 'uws'
export const WS_PATH = '/rt'

export function parseTransport(value: string | undefined): TransportKind {
  const v = (value ?? 'ws').toLowerCase()
  if (v === 'ws' || v === 'uws') return v
  throw new Error(`Unknown transport "${value}": use --transport=ws or --transport=uws`)
}

/** The shape of `@rt/transport-uws` this demo uses (loaded only when asked for). */
type CreateUwsTransport = (options: { port: number; host?: string; path?: string }) => Transport

async function loadUws(): Promise<CreateUwsTransport> {
  // A variable specifier: the ws-only demo must not need the uWS package to type-check or run.
  const specifier = '@rt/transport-uws'
  let mod: { createUwsTransport?: unknown }
  try {
    mod = (await import(specifier)) as { createUwsTransport?: unknown }
  } catch (e) {
    throw new Error(`--transport=uws needs @rt/transport-uws, which could not be loaded (${e instanceof Error ? e.message : String(e)}). Use --transport=ws.`)
  }
  if (typeof mod.createUwsTransport !== 'function') throw new Error('--transport=uws: @rt/transport-uws does not export createUwsTransport yet. Use --transport=ws.')
  return mod.createUwsTransport as CreateUwsTransport
}

/** With `ws`, the socket server rides on `http` at /rt; with `uws`, it listens on `wsPort` (same path). */
export async function createTransport(kind: TransportKind, http: HttpServer, wsPort: number, host: string): Promise<Transport> {
  if (kind === 'ws') return createWsTransport({ server: http, path: WS_PATH })
  const createUwsTransport = await loadUws()
  return createUwsTransport({ port: wsPort, host, path: WS_PATH })
}
