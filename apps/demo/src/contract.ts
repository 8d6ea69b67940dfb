import { z } from 'zod'
import { defineContract } from '@rt/contract'

export const contract = defineContract({
  shared: {
    serverToClient: {
      message: { payload: z.object({ room: z.string(), text: z.string(), from: z.string() }) },
    },
    clientToServer: {
      ping: { input: z.object({}), output: z.object({ at: z.number() }) },
    },
  },
  roles: {
    user: {
      clientToServer: {
        say: { input: z.object({ text: z.string().min(1).max(500) }), output: z.object({ delivered: z.number() }) },
      },
    },
    agent: {
      clientToServer: {
        reply: { input: z.object({ text: z.string().min(1).max(500) }), output: z.object({ ok: z.boolean() }) },
      },
      serverToClient: { task: { payload: z.object({ from: z.string(), text: z.string() }) } },
    },
  },
})
