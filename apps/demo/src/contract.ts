// The demo's whole wire vocabulary. The server, the web page and the agent import this object.
import * as z from 'zod'
import { defineContract } from '@rt/contract'

export const ROOM_NAME = /^[a-z0-9][a-z0-9-]{0,23}$/
export const USER_NAME = /^[A-Za-z0-9_-]{1,20}$/

const room = z.string().regex(ROOM_NAME, 'a room name is 1-24 lowercase letters, digits or -')
const user = z.string().regex(USER_NAME)
const text = z.string().trim().min(1).max(500)
const message = z.object({ id: z.string(), room, from: z.string(), text: z.string(), at: z.number() })

export const contract = defineContract({
  shared: {
    serverToClient: {
      // Events broadcast to rooms must be shared: rooms are mixed-role.
      dm: { payload: z.object({ from: z.string(), to: z.string(), text: z.string(), at: z.number() }) },
    },
    clientToServer: {
      ping: { input: z.object({}), output: z.object({ at: z.number(), node: z.string() }) },
    },
  },
  roles: {
    user: {
      clientToServer: {
        rooms: { input: z.object({}), output: z.object({ rooms: z.array(z.object({ name: z.string(), members: z.number() })) }) },
        join: { input: z.object({ room }), output: z.object({ room: z.string(), members: z.number() }) },
        leave: { input: z.object({ room }), output: z.object({ members: z.number() }) },
        say: { input: z.object({ room, text }), output: z.object({ id: z.string() }) },
        // A room's last messages, and the position right after them to subscribe from.
        recent: { input: z.object({ room }), output: z.object({ messages: z.array(message), offset: z.number(), epoch: z.string() }) },
        dm: { input: z.object({ to: user, text }), output: z.object({ ok: z.boolean() }) },
        typing: { input: z.object({ room }), output: z.object({ ok: z.boolean() }) },
        who: {
          input: z.object({}),
          output: z.object({ users: z.array(z.object({ id: z.string(), role: z.string(), nodes: z.array(z.string()) })) }),
        },
      },
      serverToClient: {
        // Who came online or left, anywhere in the cluster.
        presence: { payload: z.object({ user: z.string(), online: z.boolean(), role: z.string() }), subscribe: true },
        // Member counts of every room, as they change.
        roomStats: { payload: z.object({ room: z.string(), members: z.number() }), subscribe: true },
        // One stream per room with its last 200 messages: a page that was offline gets what it
        // missed, once and in order, when it is back (see docs/history-and-recovery.md).
        messages: { payload: message, subscribe: true, params: z.object({ room }), history: { size: 200 } },
        // One stream per room: who joins, leaves or types there.
        activity: {
          payload: z.object({ kind: z.enum(['joined', 'left', 'typing']), user: z.string(), members: z.number() }),
          subscribe: true,
          params: z.object({ room }),
        },
      },
    },
    agent: {
      clientToServer: {
        // Answer a task: in its room, or as a DM to the person who asked when `room` is null.
        reply: { input: z.object({ task: z.string(), room: room.nullable(), to: user, text }), output: z.object({ ok: z.boolean() }) },
        stats: {
          input: z.object({}),
          output: z.object({
            nodes: z.array(z.object({ id: z.string(), connections: z.number() })),
            users: z.number(),
            connections: z.number(),
          }),
        },
      },
      serverToClient: {
        // Agent-only: someone mentioned @bot in a room (room set) or sent it a DM (room null).
        task: { payload: z.object({ id: z.string(), room: room.nullable(), from: z.string(), text: z.string() }) },
      },
    },
  },
})

export type Contract = typeof contract
