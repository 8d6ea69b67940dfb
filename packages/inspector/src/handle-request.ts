import type { ConnectionQuery, MemberInfo } from '@rt/server'
import type { Overview } from './overview.js'
import { BadInput, connectionQuery, disconnectBody, noQuery } from './params.js'

/** A request as the `auth` hook sees it, whichever adapter received it. */
export interface InspectorRequest {
  method: string
  /** Path and query, as sent. */
  url: string
  /** Lower-case names. */
  headers: Readonly<Record<string, string | undefined>>
}

/** An answer, before an adapter writes it. */
export interface Reply {
  status: number
  headers: Record<string, string>
  body: string
}

/** What the routes need; built once by `createInspector`. */
export interface Routes {
  base: string
  auth: (request: InspectorRequest) => boolean | Promise<boolean>
  page: { html: string; csp: string }
  disconnect: boolean
  overview(): Promise<Overview>
  connections(query: ConnectionQuery): Promise<MemberInfo[]>
  close(connId: string): Promise<void>
  report(error: unknown): void
}

/** Largest request body read (the disconnect action's). */
export const MAX_BODY = 4_096

const SECURITY = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY' }

const json = (status: number, value: unknown, extra: Record<string, string> = {}): Reply => ({
  status,
  headers: { ...SECURITY, 'content-type': 'application/json; charset=utf-8', ...extra },
  body: JSON.stringify(value),
})
const fail = (status: number, message: string, extra?: Record<string, string>) => json(status, { error: { status, message } }, extra)

/** True if `path` (no query) is the inspector's or below it. */
export const isUnder = (base: string, path: string) => path === base || path.startsWith(`${base}/`)

/**
 * Answers one request under `base`: the auth hook first (so nothing is learnt without it), then
 * the route, the method and the input. Reading never changes the cluster; the one action needs
 * POST, a JSON body and a header a cross-site form cannot send, from the same origin.
 */
export async function route(r: Routes, req: InspectorRequest, body: () => Promise<string | undefined>): Promise<Reply> {
  const q = req.url.indexOf('?')
  const path = q < 0 ? req.url : req.url.slice(0, q)
  const search = q < 0 ? '' : req.url.slice(q + 1)
  let allowed: boolean
  try {
    allowed = (await r.auth(req)) === true
  } catch (e) {
    r.report(e)
    return fail(503, 'the auth hook failed')
  }
  if (!allowed) return fail(401, 'authentication required', { 'www-authenticate': 'Basic realm="@rt inspector", charset="UTF-8"' })
  const sub = path.slice(r.base.length)
  const reading = req.method === 'GET' || req.method === 'HEAD'
  try {
    switch (sub) {
      case '':
      case '/':
        if (!reading) return fail(405, 'use GET', { allow: 'GET, HEAD' })
        noQuery(search)
        return { status: 200, headers: { ...SECURITY, 'content-type': 'text/html; charset=utf-8', 'content-security-policy': r.page.csp }, body: r.page.html }
      case '/api/overview':
        if (!reading) return fail(405, 'use GET', { allow: 'GET, HEAD' })
        noQuery(search)
        return json(200, await r.overview())
      case '/api/connections': {
        if (!reading) return fail(405, 'use GET', { allow: 'GET, HEAD' })
        const query = connectionQuery(search)
        return json(200, { limit: query.limit, connections: await r.connections(query) })
      }
      case '/api/disconnect':
        if (req.method !== 'POST') return fail(405, 'use POST', { allow: 'POST' })
        return await disconnect(r, req, search, body)
      default:
        return fail(404, 'no such inspector route')
    }
  } catch (e) {
    if (e instanceof BadInput) return fail(e.status, e.message)
    r.report(e)
    return fail(500, 'the inspector failed to answer')
  }
}

async function disconnect(r: Routes, req: InspectorRequest, search: string, body: () => Promise<string | undefined>): Promise<Reply> {
  if (!r.disconnect) return fail(403, 'actions are off: createInspector(srv, { actions: { disconnect: true } }) enables this one')
  sameOrigin(req)
  noQuery(search)
  const text = await body()
  if (text === undefined) return fail(413, `the body is over ${MAX_BODY} bytes`)
  const { connId } = disconnectBody(text)
  const [found] = await r.connections({ connId, limit: 1 })
  if (!found) return fail(404, 'no such connection in the cluster')
  await r.close(connId)
  return json(200, { ok: true, connId, nodeId: found.nodeId })
}

/** CSRF: a cross-site page can post a form, but not with this header, nor pass this Origin check. */
function sameOrigin(req: InspectorRequest): void {
  const h = req.headers
  if (!(h['content-type'] ?? '').toLowerCase().startsWith('application/json')) throw new BadInput(415, 'the body must be application/json')
  if (h['x-rt-inspector'] === undefined) throw new BadInput(403, 'the x-rt-inspector header is required')
  const site = h['sec-fetch-site']
  if (site !== undefined && site !== 'same-origin') throw new BadInput(403, 'cross-site requests are refused')
  const origin = h.origin
  if (origin !== undefined && origin !== `http://${h.host}` && origin !== `https://${h.host}`) throw new BadInput(403, 'cross-origin requests are refused')
}
