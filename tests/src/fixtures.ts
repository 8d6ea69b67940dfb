import { z } from 'zod'
import { defineContract } from '@rt/contract'

/** The contract of the product spec (§3), used across the end-to-end suites. */
export const contract = defineContract({
  shared: {
    serverToClient: {
      message: { payload: z.object({ room: z.string(), text: z.string(), from: z.string() }) },
      dm: { payload: z.object({ from: z.string(), text: z.string() }) },
      news: { payload: z.object({ headline: z.string() }), subscribe: true },
    },
    clientToServer: {
      ping: { input: z.object({}), output: z.object({ at: z.number() }) },
      echo: { input: z.object({ text: z.string().max(10_000), n: z.number().int().optional() }), output: z.object({ text: z.string(), n: z.number().optional() }) },
      fail: { input: z.object({ kind: z.enum(['rt', 'plain', 'output', 'slow']) }), output: z.object({ ok: z.boolean() }) },
      whoami: { input: z.object({}), output: z.object({ conn: z.string(), user: z.string(), role: z.string(), node: z.string() }) },
    },
  },
  roles: {
    user: {
      clientToServer: {
        notify: { input: z.object({}), output: z.object({ ok: z.boolean() }) },
        joinRoom: { input: z.object({ room: z.string().min(1).max(64) }), output: z.object({ members: z.number() }) },
        burst: { input: z.object({ count: z.number().int().min(1).max(100_000), size: z.number().int().min(0).max(100_000) }), output: z.object({ sent: z.number() }) },
      },
      serverToClient: {
        ticker: { payload: z.object({ price: z.number() }), subscribe: true, params: z.object({ symbol: z.string() }) },
        alert: { payload: z.object({ level: z.enum(['info', 'warn']), text: z.string() }) },
        // Schemas that transform: the stream key and the delivered payload are the schema's output.
        quotes: {
          payload: z.object({ price: z.number().transform((n) => Math.round(n * 100) / 100) }),
          subscribe: true,
          params: z.object({ symbol: z.string().transform((s) => s.toUpperCase()) }),
        },
      },
    },
    agent: {
      clientToServer: { reply: { input: z.object({ to: z.string(), text: z.string() }), output: z.object({ ok: z.boolean() }) } },
      serverToClient: { task: { payload: z.object({ id: z.string(), prompt: z.string() }) } },
    },
  },
})

export type TestContract = typeof contract
