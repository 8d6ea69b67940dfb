import * as z from 'zod'
import { defineContract } from '@rt/contract'

const tick = z.object({ ts: z.number(), seq: z.number() })

/** The whole vocabulary of the benchmark: one room event and one echo procedure. */
export const benchContract = defineContract({
  shared: {
    serverToClient: { tick: { payload: tick } },
    clientToServer: { echo: { input: tick, output: tick } },
  },
  roles: { user: {} },
})
