import { z } from 'zod'
import { defineContract } from '@rt/contract'

const pub = z.object({ node: z.number().int(), seq: z.number().int() })
const room = z.object({ room: z.string() })

/** History topics for the cluster tests: a long one for storms, a short one (size) and a fleeting one (ttl) for "away too long". */
export const historyContract = defineContract({
  shared: {
    serverToClient: {
      feed: { payload: pub, subscribe: true, params: room, history: { size: 5_000 } },
      brief: { payload: pub, subscribe: true, params: room, history: { size: 5 } },
      fleeting: { payload: pub, subscribe: true, params: room, history: { size: 1_000, ttlMs: 300 } },
    },
  },
  roles: { user: {} },
})

export type HistoryContract = typeof historyContract
export type HistoryTopic = 'feed' | 'brief' | 'fleeting'
export type Pub = z.infer<typeof pub>
