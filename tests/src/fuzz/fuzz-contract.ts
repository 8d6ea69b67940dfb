import { z } from 'zod'
import { defineContract } from '@rt/contract'

/**
 * The contract the fuzz suite attacks: small, but with every shape of client input a real
 * application has — bounded strings, recursive JSON, open records as topic params, a
 * client-chosen room name, a slow call.
 */
export const fuzzContract = defineContract({
  shared: {
    serverToClient: {
      tick: { payload: z.object({ seq: z.number() }) },
      news: { payload: z.object({ seq: z.number() }), subscribe: true },
    },
    clientToServer: {
      echo: { input: z.object({ text: z.string().max(10_000), n: z.number().int().optional() }), output: z.object({ text: z.string(), n: z.number().optional() }) },
      // Any JSON value, checked recursively by the schema; answers with its type only.
      json: { input: z.json(), output: z.object({ type: z.string() }) },
    },
  },
  roles: {
    user: {
      clientToServer: {
        join: { input: z.object({ room: z.string().min(1).max(64) }), output: z.object({ ok: z.boolean() }) },
        slow: { input: z.object({ ms: z.number().int().min(0).max(300) }), output: z.object({ ok: z.boolean() }) },
        burst: { input: z.object({ count: z.number().int().min(1).max(100_000), size: z.number().int().min(0).max(100_000) }), output: z.object({ sent: z.number() }) },
      },
      serverToClient: {
        ticker: { payload: z.object({ price: z.number() }), subscribe: true, params: z.object({ symbol: z.string() }) },
        // Open params: whatever object the client sends names the stream.
        feed: { payload: z.object({ seq: z.number() }), subscribe: true, params: z.record(z.string(), z.unknown()) },
        blob: { payload: z.object({ text: z.string() }) },
      },
    },
    agent: {
      clientToServer: { reply: { input: z.object({ to: z.string(), text: z.string() }), output: z.object({ ok: z.boolean() }) } },
      serverToClient: {},
    },
  },
})

export type FuzzContract = typeof fuzzContract
