import type { AnyContract, RoleOf } from '@rt/contract'
import type { Client } from '@rt/client'
import type { RtHooks } from './rt-hooks.js'
import { useClientOrNull } from './rt-context.js'
import { RtProvider } from './rt-provider.js'
import type { TopicOptions } from './topic-store.js'
import { useCall } from './use-call.js'
import { useConnectionState } from './use-connection-state.js'
import { useEvent } from './use-event.js'
import { useTopic, type TopicShape } from './use-topic.js'

type Messages = Record<string, { subscribe?: boolean; params?: unknown; history?: unknown } | undefined>

/** Returns the provider and hooks typed for one role of the contract (the contract also tells which topics take params). */
export function createRtHooks<C extends AnyContract, R extends RoleOf<C>>(contract: C, role: R): RtHooks<C, R> {
  const vocab = contract.roles[role]
  if (!vocab) throw new TypeError(`createRtHooks: role "${role}" is not in the contract`)
  const messages: Messages = { ...contract.shared.serverToClient, ...vocab.serverToClient }
  const shapes = new Map<string, TopicShape>()
  for (const [name, def] of Object.entries(messages)) {
    if (def?.subscribe === true) shapes.set(name, Object.freeze({ hasParams: def.params !== undefined, history: def.history !== undefined }))
  }
  const useSubscription = (topic: string, ...args: unknown[]) => {
    // An unknown topic is left to the client, which throws NOT_FOUND when subscribing.
    const shape = shapes.get(topic) ?? { hasParams: args.length > 1, history: false }
    return useTopic(topic, shape, shape.hasParams ? args[0] : undefined, (shape.hasParams ? args[1] : args[0]) as TopicOptions | undefined)
  }
  const useRt = () => {
    const client = useClientOrNull('useRt')
    if (!client) throw new Error('useRt(): the provider has no client yet (server rendering or hydration with a client function)')
    return client as unknown as Client<C, R>
  }
  return { RtProvider, useRt, useEvent, useSubscription, useCall, useConnectionState } as unknown as RtHooks<C, R>
}
