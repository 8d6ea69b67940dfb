// The chat: one @rt server node. Everything here works the same on one node (in-memory bus) or
// many (NATS bus): rooms, DMs, presence and topics reach every node through the bus.
import { randomUUID, timingSafeEqual } from 'node:crypto'
import { RtError, createServer, type Bus, type Conn, type Server, type Transport } from '@rt/server'
import { USER_NAME, contract, type Contract } from './contract.js'

export const BOT = 'bot'
export const DEFAULT_ROOMS = ['general', 'random', 'help'] as const
/** A node silent this long (about two missed heartbeats) no longer leads presence publishing. */
const LEADER_SILENCE_MS = 4_500
/** Messages a page gets when it opens a room. */
const RECENT = 50

interface Ctx {
  user: { id: string }
}
type AnyConn = Conn<Contract, 'user' | 'agent', Ctx>

export interface ChatServerOptions {
  transport: Transport
  /** @default the in-memory bus (one node) */
  bus?: Bus
  nodeId?: string
  /** Secret the agent process proves itself with. */
  agentToken: string
  onError?: (error: unknown) => void
}

const roomKey = (name: string) => `room:${name}`
const roleOf = (user: string) => (user === BOT ? 'agent' : 'user')
const userKey = (id: string) => `user:${id}`

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

export function createChatServer(options: ChatServerOptions) {
  // Rooms this node has heard of (defaults, and any room a `roomStats` message names).
  const knownRooms = new Set<string>(DEFAULT_ROOMS)
  // Rooms each local connection joined, to announce its departure when it closes.
  const joined = new Map<string, Set<string>>()
  // Everyone online in the cluster, fed by presence events (every node sees every change).
  const online = new Set<string>()
  let closing = false

  // Annotated: the handlers use `srv`, which TypeScript could not infer while inferring it.
  const srv: Server<Contract, Ctx> = createServer<Contract, Ctx>({
    contract,
    transport: options.transport,
    ...(options.bus ? { bus: options.bus } : {}),
    ...(options.nodeId ? { nodeId: options.nodeId } : {}),
    ...(options.onError ? { onError: (e: unknown) => options.onError?.(e) } : {}),
    authenticate: ({ role, auth }) => {
      const a = (auth ?? {}) as { name?: unknown; token?: unknown }
      const name = typeof a.name === 'string' ? a.name.trim() : ''
      if (role === 'agent') {
        if (name !== BOT || typeof a.token !== 'string' || !sameSecret(a.token, options.agentToken)) throw new RtError('UNAUTHORIZED', 'Agents need the agent token')
        return { user: { id: BOT } }
      }
      if (!USER_NAME.test(name)) throw new RtError('UNAUTHORIZED', 'Pick a name: 1-20 letters, digits, - or _')
      if (name.toLowerCase() === BOT) throw new RtError('UNAUTHORIZED', '"bot" is the agent\'s name: pick another')
      return { user: { id: name } }
    },
    handlers: {
      shared: {
        ping: () => ({ at: Date.now(), node: srv.nodeId }),
      },
      user: {
        rooms: async () => {
          const rooms = await Promise.all([...knownRooms].map(async (name) => ({ name, members: await srv.room(roomKey(name)).count() })))
          const visible = rooms.filter((r) => r.members > 0 || (DEFAULT_ROOMS as readonly string[]).includes(r.name))
          return { rooms: visible.sort((a, b) => a.name.localeCompare(b.name)) }
        },
        join: async ({ room }, ctx, conn) => {
          const r = srv.room(roomKey(room))
          if (!r.has(conn)) {
            r.add(conn)
            joinedBy(conn).add(room)
            await announce(room, 'joined', ctx.user.id)
          }
          return { room, members: await r.count() }
        },
        leave: async ({ room }, ctx, conn) => {
          const r = srv.room(roomKey(room))
          if (r.has(conn)) {
            r.remove(conn)
            joinedBy(conn).delete(room)
            await announce(room, 'left', ctx.user.id)
          }
          return { members: await r.count() }
        },
        say: async ({ room, text }, ctx, conn) => {
          const r = srv.room(roomKey(room))
          if (!r.has(conn)) throw new RtError('FORBIDDEN', `Join #${room} first`)
          const id = randomUUID()
          await post(room, ctx.user.id, text, id)
          if (/(^|\W)@bot\b/i.test(text)) await askBot(room, ctx.user.id, text)
          return { id }
        },
        recent: async ({ room }) => {
          // From the room's history (the `messages` topic): newest last, with the stream's top.
          const h = await srv.forRole('user').history('messages', { room }, { limit: RECENT })
          return { messages: h.publications.map((p) => p.payload), offset: h.offset, epoch: h.epoch }
        },
        dm: async ({ to, text }, ctx) => {
          const from = ctx.user.id
          if (to === from) throw new RtError('BAD_REQUEST', 'That is you')
          if (!(await srv.presence.isOnline(to))) throw new RtError('NOT_FOUND', `${to} is not online`)
          const msg = { from, to, text, at: Date.now() }
          // The per-user room reaches every tab of the user, on any node; the sender's too.
          srv.room(userKey(to)).broadcast('dm', msg)
          srv.room(userKey(from)).broadcast('dm', msg)
          if (to === BOT) await askBot(null, from, text)
          return { ok: true }
        },
        typing: async ({ room }, ctx, conn) => {
          const r = srv.room(roomKey(room))
          if (!r.has(conn)) return { ok: false }
          // `size` counts this node's members only; `count()` the whole cluster's.
          srv.forRole('user').publish('activity', { kind: 'typing', user: ctx.user.id, members: await r.count() }, { room })
          return { ok: true }
        },
        who: async () => {
          const users = await Promise.all(
            [...online].map(async (id) => {
              const entries = await srv.presence.user(id)
              return { id, role: entries[0]?.role ?? roleOf(id), nodes: [...new Set(entries.map((e) => e.nodeId))].sort() }
            }),
          )
          const list = users.filter((u) => u.nodes.length > 0)
          return { users: list.sort((a, b) => a.id.localeCompare(b.id)) }
        },
      },
      agent: {
        reply: async ({ room, to, text }, ctx) => {
          if (room !== null) await post(room, ctx.user.id, text)
          else {
            const msg = { from: ctx.user.id, to, text, at: Date.now() }
            srv.room(userKey(to)).broadcast('dm', msg)
            srv.room(userKey(ctx.user.id)).broadcast('dm', msg)
          }
          return { ok: true }
        },
        stats: async () => {
          const { connections, users } = await srv.presence.count()
          const nodes = srv.nodes().map((n) => ({ id: n.id, connections: n.connections }))
          return { nodes: nodes.sort((a, b) => a.id.localeCompare(b.id)), users, connections }
        },
      },
    },
    onConnection: (conn, ctx) => {
      // DMs: every connection sits in its user's room, so `user:<id>` reaches all of them.
      srv.room(userKey(ctx.user.id)).add(conn)
    },
    onDisconnect: async (conn, ctx) => {
      const rooms = joined.get(conn.id)
      joined.delete(conn.id)
      if (closing || !rooms) return
      for (const room of rooms) await announce(room, 'left', ctx.user.id)
    },
  })

  function joinedBy(conn: AnyConn): Set<string> {
    let s = joined.get(conn.id)
    if (!s) joined.set(conn.id, (s = new Set()))
    return s
  }

  async function announce(room: string, kind: 'joined' | 'left', user: string): Promise<void> {
    const members = await srv.room(roomKey(room)).count()
    const users = srv.forRole('user')
    users.publish('activity', { kind, user, members }, { room })
    users.publish('roomStats', { room, members })
  }

  /** A room message: stored in the room's history (the `messages` topic), then delivered to every page following the room. */
  async function post(room: string, from: string, text: string, id: string = randomUUID()): Promise<void> {
    await srv.forRole('user').publish('messages', { id, room, from, text, at: Date.now() }, { room })
  }

  async function askBot(room: string | null, from: string, text: string): Promise<void> {
    if (!(await srv.presence.isOnline(BOT))) {
      const note = 'The bot is offline right now.'
      if (room) await post(room, 'system', note)
      return
    }
    // Agent-only event: only connections of role `agent` of user `bot` get it, on any node.
    await srv.forRole('agent').toUser(BOT).emit('task', { id: randomUUID(), room, from, text })
    if (room) srv.forRole('user').publish('activity', { kind: 'typing', user: BOT, members: await srv.room(roomKey(room)).count() }, { room })
  }

  // Rooms other nodes announce: learned through a server-side subscription to the same topic.
  srv.forRole('user').subscribe('roomStats', ({ room }) => void knownRooms.add(room))

  // Presence: every node sees every online/offline change. One node publishes it to the
  // `presence` topic, so pages get each change once: the lowest id among nodes heard from
  // lately (a crashed leader stops counting after a few missed heartbeats). Deferred a turn so
  // that a node that just left is out of `nodes()` before we look. Pages also re-fetch `who`
  // on every (re)connection, so a change lost in a leader hand-over heals there.
  const leader = () => {
    const now = Date.now()
    const alive = srv.nodes().filter((n) => n.id === srv.nodeId || now - n.lastHeartbeat < LEADER_SILENCE_MS)
    return alive.reduce((min, n) => (n.id < min ? n.id : min), srv.nodeId) === srv.nodeId
  }
  const onPresence = (user: string, isOnline: boolean) => {
    if (isOnline) online.add(user)
    else online.delete(user)
    setImmediate(() => {
      if (!leader()) return
      try {
        // Even while this node closes: until it has left, the others count it as the leader.
        srv.forRole('user').publish('presence', { user, online: isOnline, role: roleOf(user) })
      } catch {
        // The bus is already closed: this node has left, and the next leader took over.
      }
    })
  }
  srv.presence.on('online', (user) => onPresence(user, true))
  srv.presence.on('offline', (user) => onPresence(user, false))

  return {
    srv,
    async close() {
      closing = true
      await srv.close()
    },
  }
}
