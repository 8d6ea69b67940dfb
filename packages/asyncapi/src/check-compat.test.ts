import { defineContract, type Vocabulary } from '@rt/contract'
import { describe, expect, it } from 'vitest'
import * as z from 'zod'
import { checkCompat, type CompatKind } from './check-compat.js'
import { formatCompatReport } from './format-report.js'

const room = z.string().min(1).max(64)
const base = {
  shared: {
    clientToServer: { ping: { input: z.object({}), output: z.object({ at: z.number() }) } },
    serverToClient: { news: { payload: z.object({ headline: z.string() }), subscribe: true as const } },
  },
  user: {
    clientToServer: { join: { input: z.object({ room }), output: z.object({ members: z.int() }) } },
    serverToClient: {
      message: { payload: z.object({ room: z.string(), text: z.string() }) },
      ticker: { payload: z.object({ price: z.number() }), subscribe: true as const, params: z.object({ symbol: z.string() }) },
      feed: { payload: z.object({ text: z.string() }), subscribe: true as const, params: z.object({ room }), history: { size: 100 } },
    },
  },
  agent: { clientToServer: { reply: { input: z.object({ to: z.string(), text: z.string() }), output: z.object({ ok: z.boolean() }) } } },
}

type Patch = { shared?: Vocabulary; user?: Vocabulary; agent?: Vocabulary | null }

/** The base contract with parts of it replaced; `agent: null` drops the role. */
function variant(p: Patch = {}) {
  const roles: Record<string, Vocabulary> = { user: p.user ?? base.user }
  if (p.agent !== null) roles.agent = p.agent ?? base.agent
  return defineContract({ shared: p.shared ?? base.shared, roles } as never)
}

type Procs = NonNullable<Vocabulary['clientToServer']>
type Msgs = NonNullable<Vocabulary['serverToClient']>
const user = (c: Procs, s: Msgs = {}): Vocabulary => ({
  clientToServer: { ...base.user.clientToServer, ...c },
  serverToClient: { ...base.user.serverToClient, ...s },
})
const without = <T extends object>(o: T, k: keyof T): T => Object.fromEntries(Object.entries(o).filter(([x]) => x !== k)) as T

function kinds(p: Patch) {
  const r = checkCompat(variant(), variant(p))
  return r.changes.map((c) => `${c.severity} ${c.kind} ${c.name}`)
}

describe('checkCompat: breaking changes', () => {
  const breaks: [string, Patch, CompatKind, string][] = [
    ['role removed', { agent: null }, 'role-removed', 'agent'],
    ['procedure removed', { user: { ...base.user, clientToServer: {} } }, 'procedure-removed', 'join'],
    ['input narrowed', { user: user({ join: { input: z.object({ room: z.string().min(1).max(32) }), output: z.object({ members: z.int() }) } }) }, 'input-narrowed', 'join'],
    ['input field required', { user: user({ join: { input: z.object({ room, invite: z.string() }), output: z.object({ members: z.int() }) } }) }, 'input-narrowed', 'join'],
    ['output widened', { user: user({ join: { input: z.object({ room }), output: z.object({ members: z.number() }) } }) }, 'output-widened', 'join'],
    ['output field made optional', { user: user({ join: { input: z.object({ room }), output: z.object({ members: z.int().optional() }) } }) }, 'output-widened', 'join'],
    ['event removed', { user: { ...base.user, serverToClient: without(base.user.serverToClient, 'message') } }, 'event-removed', 'message'],
    ['event payload widened', { user: user({}, { message: { payload: z.object({ room: z.string().nullable(), text: z.string() }) } }) }, 'payload-widened', 'message'],
    ['topic removed', { user: { ...base.user, serverToClient: without(base.user.serverToClient, 'ticker') } }, 'topic-removed', 'ticker'],
    ['topic payload widened', { user: user({}, { ticker: { payload: z.object({ price: z.union([z.number(), z.string()]) }), subscribe: true, params: z.object({ symbol: z.string() }) } }) }, 'payload-widened', 'ticker'],
    ['topic params narrowed', { user: user({}, { ticker: { payload: z.object({ price: z.number() }), subscribe: true, params: z.object({ symbol: z.string().max(5) }) } }) }, 'params-narrowed', 'ticker'],
    ['topic params removed', { user: user({}, { ticker: { payload: z.object({ price: z.number() }), subscribe: true } }) }, 'params-removed', 'ticker'],
    ['topic params added', { shared: { ...base.shared, serverToClient: { news: { payload: z.object({ headline: z.string() }), subscribe: true, params: z.object({ lang: z.string() }) } } } }, 'params-added', 'news'],
    ['history removed', { user: user({}, { feed: { payload: z.object({ text: z.string() }), subscribe: true, params: z.object({ room }) } }) }, 'history-removed', 'feed'],
    ['event became a topic', { user: user({}, { message: { payload: z.object({ room: z.string(), text: z.string() }), subscribe: true } }) }, 'kind-changed', 'message'],
  ]
  it.each(breaks)('%s', (_name, patch, kind, name) => {
    const r = checkCompat(variant(), variant(patch))
    expect(r.changes.filter((c) => c.severity === 'breaking').map((c) => [c.kind, c.name])).toContainEqual([kind, name])
    expect(r.breaking).toBeGreaterThan(0)
  })

  it('a shared procedure removed is one change for every role', () => {
    const r = checkCompat(variant(), variant({ shared: { serverToClient: base.shared.serverToClient } }))
    expect(r.changes).toEqual([expect.objectContaining({ kind: 'procedure-removed', name: 'ping', roles: ['user', 'agent'] })])
  })

  it('a rename is a removal, with a hint', () => {
    const r = checkCompat(variant(), variant({ agent: { clientToServer: { answer: base.agent.clientToServer.reply } } }))
    expect(r.changes.find((c) => c.kind === 'procedure-removed')?.message).toBe('procedure "reply" removed: calls fail with NOT_FOUND (renamed to "answer"?)')
  })

  it('a pattern change it cannot decide is possibly breaking, with where and why', () => {
    const r = checkCompat(
      variant({ user: user({ join: { input: z.object({ room: z.string().regex(/^[a-z]+$/) }), output: z.object({ members: z.int() }) } }) }),
      variant({ user: user({ join: { input: z.object({ room: z.string().regex(/^[a-z0-9]+$/) }), output: z.object({ members: z.int() }) } }) }),
    )
    expect(r).toMatchObject({ breaking: 0, possiblyBreaking: 1 })
    expect(r.changes[0]?.details).toEqual(['.room: pattern changed to /^[a-z0-9]+$/ (regular expressions are not compared) (possibly)'])
  })
})

describe('checkCompat: safe changes', () => {
  const safe: [string, Patch, string[]][] = [
    ['nothing', {}, []],
    ['role added', { agent: base.agent, user: base.user, shared: base.shared }, []],
    ['optional input field added', { user: user({ join: { input: z.object({ room, invite: z.string().optional() }), output: z.object({ members: z.int() }) } }) }, ['safe input-widened join']],
    ['input widened', { user: user({ join: { input: z.object({ room: z.string() }), output: z.object({ members: z.int() }) } }) }, ['safe input-widened join']],
    ['output narrowed', { user: user({ join: { input: z.object({ room }), output: z.object({ members: z.int().min(0) }) } }) }, ['safe output-narrowed join']],
    ['output field added', { user: user({ join: { input: z.object({ room }), output: z.object({ members: z.int(), names: z.array(z.string()) }) } }) }, ['safe output-narrowed join']],
    ['procedure added', { user: user({ leave: { input: z.object({ room }), output: z.object({}) } }) }, ['safe procedure-added leave']],
    ['event added', { user: user({}, { typing: { payload: z.object({ who: z.string() }) } }) }, ['safe event-added typing']],
    ['topic params widened', { user: user({}, { ticker: { payload: z.object({ price: z.number() }), subscribe: true, params: z.object({ symbol: z.string(), venue: z.string().optional() }) } }) }, ['safe params-widened ticker']],
    ['history added', { user: user({}, { ticker: { payload: z.object({ price: z.number() }), subscribe: true, params: z.object({ symbol: z.string() }), history: { size: 5 } } }) }, ['safe history-added ticker']],
    ['history reduced', { user: user({}, { feed: { payload: z.object({ text: z.string() }), subscribe: true, params: z.object({ room }), history: { size: 10 } } }) }, ['safe history-reduced feed']],
    ['description changed', { user: user({ join: { input: z.object({ room }).describe('Join a room'), output: z.object({ members: z.int() }) } }) }, []],
  ]
  it.each(safe)('%s', (_name, patch, expected) => {
    expect(kinds(patch)).toEqual(expected)
  })

  it('moving a procedure from every role into shared changes nothing for clients', () => {
    const moved = defineContract({
      shared: { ...base.shared, clientToServer: { ...base.shared.clientToServer, hi: { input: z.object({}), output: z.object({}) } } },
      roles: { user: base.user, agent: base.agent },
    })
    const before = defineContract({
      shared: base.shared,
      roles: {
        user: { ...base.user, clientToServer: { ...base.user.clientToServer, hi: { input: z.object({}), output: z.object({}) } } },
        agent: { clientToServer: { ...base.agent.clientToServer, hi: { input: z.object({}), output: z.object({}) } } },
      },
    })
    expect(checkCompat(before, moved).changes).toEqual([])
  })
})

describe('formatCompatReport', () => {
  it('lists breaking changes first, with details and roles, then a summary', () => {
    const r = checkCompat(variant(), variant({ agent: null, user: user({ join: { input: z.object({ room: z.string().max(8) }), output: z.object({ members: z.int() }) }, leave: { input: z.object({}), output: z.object({}) } }) }))
    expect(formatCompatReport(r)).toBe(
      [
        'BREAKING          procedure "join": input narrowed: calls of old clients may be refused with BAD_REQUEST [user]',
        '                    .room: length upper bound is now <= 8 (was <= 64)',
        'BREAKING          role "agent" removed: its clients are refused at hello (4001)',
        'safe              procedure "leave" added [user]',
        '',
        '2 breaking, 0 possibly breaking, 1 safe. Deployed clients may break.',
        '',
      ].join('\n'),
    )
    expect(formatCompatReport(r, { safe: false })).not.toContain('leave')
  })

  it('says so when nothing changed', () => {
    expect(formatCompatReport(checkCompat(variant(), variant()))).toBe('No changes that clients can see.\n')
  })
})
