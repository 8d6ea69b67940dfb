import * as z from 'zod'
import { defineContract } from '@rt/contract'

const tick = z.object({ ts: z.number(), seq: z.number() })

/** The whole vocabulary of the benchmark: one room event, one echo procedure, and a topic (the storm's clients re-subscribe to it). */
export const benchContract = defineContract({
  shared: {
    serverToClient: { tick: { payload: tick }, pulse: { payload: tick, subscribe: true } },
    clientToServer: { echo: { input: tick, output: tick } },
  },
  roles: { user: {} },
})
