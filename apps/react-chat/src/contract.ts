// The chat's contract, imported by the server and by the page.
import * as z from 'zod'
import { defineContract } from '@rt/contract'

export const ROOMS = ['general', 'random'] as const
export const USER_NAME = /^[A-Za-z0-9_-]{1,20}$/

const room = z.enum(ROOMS)

export const contract = defineContract({
  roles: {
    user: {
      clientToServer: {
        /** Joins a room: the others in it get `joined`; answers how many are there. */
        joinRoom: { input: z.object({ room }), output: z.object({ members: z.number() }) },
        leaveRoom: { input: z.object({ room }), output: z.object({ ok: z.boolean() }) },
        send: { input: z.object({ room, text: z.string().min(1).max(500) }), output: z.object({ offset: z.number() }) },
      },
      serverToClient: {
        /** Someone joined a room this connection is in. */
        joined: { payload: z.object({ room: z.string(), user: z.string() }) },
        /** A room's messages: kept, so a page that was away gets what it missed. */
        messages: {
          payload: z.object({ from: z.string(), text: z.string(), at: z.number() }),
          subscribe: true,
          params: z.object({ room }),
          history: { size: 200 },
        },
      },
    },
  },
})

export type Contract = typeof contract
export type Room = (typeof ROOMS)[number]
