// The inspector over real HTTP: refused without the auth hook's consent, read-only unless an
// action is enabled, CSRF-safe when it is, clear 4xx on any bad input (fuzzed), and the same
// answers through its fetch-style handler on a uWebSockets.js node.
import { request as httpRequest } from 'node:http'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createInspector, type Overview } from '@rt/inspector'
import { until } from './harness.js'
import { AUTH, inspectedCluster } from './inspector/inspected-cluster.js'

const get = (url: string, headers: Record<string, string> = { authorization: AUTH }) => fetch(url, { headers })

describe('inspector over HTTP', () => {
  it('refuses without the auth hook’s consent, whatever the route', async () => {
    await using c = await inspectedCluster('ws', { nodes: 1 })
    const page = c.nodes[0]!.pageUrl
    for (const path of ['', '/', '/api/overview', '/api/connections', '/api/nothing']) {
      const none = await get(page + path, {})
      expect(none.status).toBe(401)
      expect(none.headers.get('www-authenticate')).toMatch(/^Basic /)
      expect(await none.text()).not.toContain('n1')
      const wrong = await get(page + path, { authorization: `Basic ${Buffer.from('admin:nope').toString('base64')}` })
      expect(wrong.status).toBe(401)
    }
    const post = await fetch(`${page}/api/disconnect`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-rt-inspector': '1' }, body: '{"connId":"x"}' })
    expect(post.status).toBe(401)
    // Other paths are the application's.
    expect((await get(`${c.nodes[0]!.origin}/inspector`)).status).toBe(404)
    expect(() => createInspector(c.nodes[0]!.srv, {} as never)).toThrow(/auth/)
  })

  it('a hook that says no (async) or throws refuses too; a throw is reported', async () => {
    const errors: unknown[] = []
    await using c = await inspectedCluster('ws', { nodes: 1, inspector: { auth: async (r) => r.headers['x-key'] === 'k', onError: (e) => errors.push(e) } })
    const page = c.nodes[0]!.pageUrl
    expect((await get(page, {})).status).toBe(401)
    expect((await get(page, { 'x-key': 'k' })).status).toBe(200)
    const boom = createInspector(c.nodes[0]!.srv, { auth: () => { throw new Error('ldap down') }, onError: (e) => errors.push(e) })
    const res = await boom.fetch(new Request('http://127.0.0.1/inspect'))
    expect(res.status).toBe(503)
    expect(errors).toEqual([new Error('ldap down')])
    boom.close()
  })

  it('serves the page with a strict CSP and JSON that matches the servers', async () => {
    await using c = await inspectedCluster('ws')
    const a = c.join(0, 'user', 'ann')
    const b = c.join(2, 'agent', 'bob')
    await Promise.all([a.ready(), b.ready()])
    c.nodes[0]!.srv.room('lobby').add(c.nodes[0]!.srv.connections.get(a.connId!)!)
    const page = await get(c.nodes[1]!.pageUrl)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'none'; script-src 'sha256-/)
    expect(page.headers.get('cache-control')).toBe('no-store')
    const html = await page.text()
    expect(html).toContain('data-disconnect="false"')
    // No external asset: inline script and style, and a data: favicon (so the browser asks for none).
    expect(html).not.toMatch(/<script src|<link [^>]*href="(?!data:)|@import|url\(/)
    // Node 2 holds neither connection, and answers for the whole cluster.
    const read = async () => (await (await get(`${c.nodes[1]!.pageUrl}/api/overview`)).json()) as Overview
    await until(async () => (await read()).rooms.count === 1, 5_000, 'replicated room')
    const o = await read()
    expect(o.servedBy).toBe('n2')
    expect(o.nodes.map((n) => [n.id, n.connections, n.roles])).toEqual([['n1', 1, { user: 1 }], ['n2', 0, {}], ['n3', 1, { agent: 1 }]])
    expect(o.roles).toEqual({ user: 1, agent: 1 })
    expect(o.presence).toEqual({ ...(await c.nodes[1]!.srv.presence.count()), sample: ['ann', 'bob'] })
    expect(o.rooms).toEqual({ count: 1, top: [{ name: 'lobby', size: 1 }] })
    expect(o.actions).toEqual({ disconnect: false })
    const list = await (await get(`${c.nodes[1]!.pageUrl}/api/connections?role=agent&limit=5`)).json()
    expect(list).toEqual({ limit: 5, connections: [{ connId: b.connId, nodeId: 'n3', userId: 'bob', role: 'agent', since: expect.any(Number) }] })
  })

  it('refuses the disconnect action while it is off', async () => {
    await using c = await inspectedCluster('ws', { nodes: 2 })
    const a = c.join(1, 'user', 'ann')
    await a.ready()
    const res = await fetch(`${c.nodes[0]!.pageUrl}/api/disconnect`, {
      method: 'POST',
      headers: { authorization: AUTH, 'content-type': 'application/json', 'x-rt-inspector': '1' },
      body: JSON.stringify({ connId: a.connId }),
    })
    expect(res.status).toBe(403)
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/actions/)
    await new Promise((r) => setTimeout(r, 300))
    expect(a.state).toBe('open')
  })

  it('with the action on: POST only, same origin only, then closes a connection held by another node', async () => {
    await using c = await inspectedCluster('uws', { inspector: { actions: { disconnect: true } } })
    const a = c.join(2, 'user', 'ann')
    await a.ready()
    const url = `${c.nodes[0]!.pageUrl}/api/disconnect`
    const ok = { authorization: AUTH, 'content-type': 'application/json', 'x-rt-inspector': '1' }
    const body = JSON.stringify({ connId: a.connId })
    const post = (headers: Record<string, string>, b = body) => fetch(url, { method: 'POST', headers, body: b }).then((r) => r.status)
    expect((await get(url)).status).toBe(405)
    expect(await post({ ...ok, 'content-type': 'text/plain' })).toBe(415)
    expect(await post({ authorization: AUTH, 'content-type': 'application/json' })).toBe(403)
    expect(await post({ ...ok, origin: 'http://evil.example' })).toBe(403)
    expect(await post({ ...ok, 'sec-fetch-site': 'cross-site' })).toBe(403)
    expect(await post(ok, '{"connId":')).toBe(400)
    expect(await post(ok, JSON.stringify({ connId: 'n9.nobody' }))).toBe(404)
    expect(await post(ok, JSON.stringify({ connId: 'x'.repeat(5_000) }))).toBe(413)
    expect(a.state).toBe('open')
    await until(async () => (await c.nodes[0]!.srv.fetchConnections({ connId: a.connId! })).length === 1, 5_000, 'replicated connection')
    const res = await fetch(url, { method: 'POST', headers: { ...ok, origin: c.nodes[0]!.origin }, body })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ ok: true, connId: a.connId, nodeId: 'n3' })
    await until(() => a.state === 'closed', 5_000, 'connection on n3 closed')
    expect(c.nodes[2]!.srv.connections.size).toBe(0)
  })

  it('answers the same through the fetch-style handler (a uWS node)', async () => {
    await using c = await inspectedCluster('uws', { nodes: 2 })
    const a = c.join(1, 'user', 'ann')
    await a.ready()
    const inspector = c.nodes[0]!.inspector
    const req = (path: string, init: RequestInit = {}) => inspector.fetch(new Request(`http://127.0.0.1${path}`, { ...init, headers: { authorization: AUTH, ...(init.headers as Record<string, string>) } }))
    expect((await req('/elsewhere')).status).toBe(404)
    expect((await req('/inspect')).headers.get('content-type')).toMatch(/^text\/html/)
    await until(async () => ((await (await req('/inspect/api/overview')).json()) as Overview).presence.connections === 1, 5_000, 'replicated connection')
    expect((await req('/inspect/api/connections?limit=0')).status).toBe(400)
    expect((await req('/inspect/api/disconnect', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json', 'x-rt-inspector': '1' } })).status).toBe(403)
    expect((await inspector.fetch(new Request('http://127.0.0.1/inspect'))).status).toBe(401)
  })

  it('the Node handler answers odd raw requests with 4xx, and HEAD without a body', async () => {
    await using c = await inspectedCluster('ws', { nodes: 1 })
    const port = Number(new URL(c.nodes[0]!.origin).port)
    const raw = (path: string, method = 'GET', headers: Record<string, string | string[]> = { authorization: AUTH }) =>
      new Promise<{ status: number; body: string; length: string | undefined }>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, path, method, headers }, (res) => {
          let body = ''
          res.setEncoding('utf8')
          res.on('data', (d: string) => (body += d))
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body, length: res.headers['content-length'] }))
        })
        req.on('error', reject)
        req.end()
      })
    expect((await raw('//inspect')).status).toBe(404) // not the inspector's path: the application's 404
    expect((await raw('/inspect/%ZZ')).status).toBe(404)
    expect((await raw('/inspect/api/../api/overview')).status).toBe(404)
    expect((await raw('/inspect?x')).status).toBe(400)
    expect((await raw('/inspect/api/connections?limit=%E0%A4')).status).toBe(400)
    expect((await raw('/inspect/api/connections?user=%E0%A4&room=%00')).status).toBe(200)
    expect((await raw('/inspect/api/overview', 'GET', { authorization: AUTH, 'x-rt-inspector': ['1', '2'] })).status).toBe(200)
    const head = await raw('/inspect', 'HEAD')
    expect(head).toMatchObject({ status: 200, body: '' })
    expect(Number(head.length)).toBeGreaterThan(1_000)
  })

  it('never fails on what a request controls: method, path, query, headers, body (property)', async () => {
    const errors: unknown[] = []
    await using c = await inspectedCluster('ws', { nodes: 1, inspector: { actions: { disconnect: true }, onError: (e) => errors.push(e) } })
    const a = c.join(0, 'user', 'ann')
    await a.ready()
    const inspector = c.nodes[0]!.inspector
    const part = fc.oneof(fc.constantFrom('api', 'overview', 'connections', 'disconnect', '', '..', '%2e', '%00', 'inspect'), fc.string({ maxLength: 8 }))
    const key = fc.oneof(fc.constantFrom('node', 'role', 'user', 'room', 'limit', ''), fc.string({ maxLength: 6 }))
    const value = fc.oneof(fc.constantFrom('0', '1', '1000', '1001', '-1', '1e3', 'n1', ''), fc.string({ maxLength: 300 }))
    const request = fc.record({
      method: fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
      path: fc.array(part, { maxLength: 4 }).map((p) => encodeURI(`/inspect/${p.join('/')}`).replace(/#/g, '%23')),
      query: fc.array(fc.tuple(key, value), { maxLength: 4 }),
      json: fc.boolean(),
      origin: fc.constantFrom(undefined, 'http://127.0.0.1', 'http://evil.example'),
      body: fc.oneof(fc.constant(JSON.stringify({ connId: 'n1.zz' })), fc.json(), fc.string({ maxLength: 50 })),
    })
    const ALLOWED = new Set([200, 400, 403, 404, 405, 413, 415])
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const q = new URLSearchParams(r.query).toString()
        const headers: Record<string, string> = { authorization: AUTH, 'x-rt-inspector': '1', ...(r.json && { 'content-type': 'application/json' }), ...(r.origin && { origin: r.origin }) }
        const hasBody = r.method !== 'GET' && r.method !== 'HEAD'
        const res = await inspector.fetch(new Request(`http://127.0.0.1${r.path}${q ? `?${q}` : ''}`, { method: r.method, headers, ...(hasBody && { body: r.body }) }))
        expect(ALLOWED).toContain(res.status)
        if (r.method !== 'HEAD' && res.headers.get('content-type')?.startsWith('application/json')) {
          const parsed = (await res.json()) as { error?: { message: string } }
          if (res.status >= 400) expect(parsed.error?.message).toEqual(expect.any(String))
        }
      }),
      { numRuns: 300 },
    )
    expect(errors).toEqual([])
    expect(a.state).toBe('open')
  })
})
