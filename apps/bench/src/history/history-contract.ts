import * as z from 'zod'
import { defineContract } from '@rt/contract'

const tick = z.object({ ts: z.number(), seq: z.number() })
const room = z.object({ room: z.string() })

/** The history benchmark's vocabulary: the same stream with and without history. */
export const historyContract = defineContract({
  roles: {
    user: {
      serverToClient: {
        plain: { payload: tick, subscribe: true, params: room },
        hist: { payload: tick, subscribe: true, params: room, history: { size: 200 } },
      },
    },
  },
})

export type HistoryTopic = 'plain' | 'hist'
