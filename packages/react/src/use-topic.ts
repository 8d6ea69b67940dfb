import { useMemo, useSyncExternalStore } from 'react'
import { useClientOrNull } from './rt-context.js'
import { stableKey } from './stable-key.js'
import { TopicStore, type TopicOptions } from './topic-store.js'
import type { LooseSubscriptionState } from './types.js'
import { useLatest } from './use-latest.js'

const INITIAL: LooseSubscriptionState = Object.freeze({ data: undefined, status: 'subscribing', error: undefined, recovered: undefined, position: undefined })
const initial = () => INITIAL
const noSubscribe = () => () => {}

/** What the typed hook knows of the topic from the contract. */
export interface TopicShape {
  hasParams: boolean
  history: boolean
}

/** Subscribes to a topic stream while mounted; a params change moves to the new stream and leaves the old one. */
export function useTopic(topic: string, shape: TopicShape, params: unknown, options: TopicOptions | undefined): LooseSubscriptionState {
  const client = useClientOrNull('useSubscription')
  const latest = useLatest(options)
  const key = shape.hasParams ? stableKey(params) : ''
  // A new store per stream; it subscribes only when React listens to it, so rendering alone (or on the server) sends nothing.
  const store = useMemo(
    () => (client ? new TopicStore(client, { topic, hasParams: shape.hasParams, params, history: shape.history, options: latest }) : undefined),
    // `params` is named by `key`: a new object with the same content is the same stream.
    [client, topic, key, shape.hasParams, shape.history],
  )
  return useSyncExternalStore(store?.subscribe ?? noSubscribe, store?.getSnapshot ?? initial, store ? () => store.initial : initial)
}
