import type { AnyContract, CallInput, CallOutput, EventName, MessagesOf, ParamsIn, PayloadOut, ProcedureName, RoleOf, StreamPosition, TopicName } from '@rt/contract'
import type { Client, RtError, SubscribedInfo, TopicMeta } from '@rt/client'
import type { ReactNode } from 'react'
import type { RtProviderProps } from './rt-provider.js'
import type { ConnectionStateValue, SubscriptionStatus } from './types.js'
import type { UseCallOptions } from './use-call.js'

type IsHistory<M, T> = T extends keyof M ? (M[T] extends { history: object } ? true : false) : false

/** Options of `useSubscription`; `since` and `onSubscribed` on history topics only. */
export type SubscriptionOptions<M, T> = {
  /** Called with every publication, in order (`data` only holds the last one); the callback of the last render is used. */
  onData?: (payload: PayloadOut<M, T>, meta: TopicMeta<M, T>) => void
} & (IsHistory<M, T> extends true
  ? {
      /** Called on every acknowledgement: the first subscribe, each resubscribe after a reconnect, each repair. */
      onSubscribed?: (info: SubscribedInfo) => void
      /** Start from a stored position (e.g. `position` saved before a reload). */
      since?: StreamPosition | undefined
    }
  : {})

/** `useSubscription`'s arguments after the topic: params when the topic has them, then options. */
export type SubscriptionArgs<M, T> =
  ParamsIn<M, T> extends undefined ? [options?: SubscriptionOptions<M, T>] : [params: ParamsIn<M, T>, options?: SubscriptionOptions<M, T>]

/** What `useSubscription` returns: the last publication, where the subscription stands, and on a history topic its recovery and position. */
export type SubscriptionState<M, T> = {
  readonly data: PayloadOut<M, T> | undefined
  readonly status: SubscriptionStatus
  readonly error: RtError | undefined
} & (IsHistory<M, T> extends true
  ? {
      /** The last acknowledgement's `recovered`: every publication after the position sent was delivered. */
      readonly recovered: boolean | undefined
      /** Position of the last publication delivered (or the top the server answered with). */
      readonly position: StreamPosition | undefined
    }
  : { readonly recovered: undefined; readonly position: undefined })

type Caller<C extends AnyContract, R extends RoleOf<C>, P> =
  undefined extends CallInput<C, R, P>
    ? (input?: CallInput<C, R, P>, options?: UseCallOptions) => Promise<CallOutput<C, R, P>>
    : (input: CallInput<C, R, P>, options?: UseCallOptions) => Promise<CallOutput<C, R, P>>

/** What `useCall` returns: `call` (it rejects as the client's call does) and the state of the last call started. */
export interface CallState<C extends AnyContract, R extends RoleOf<C>, P> {
  readonly call: Caller<C, R, P>
  readonly data: CallOutput<C, R, P> | undefined
  readonly error: Error | undefined
  readonly pending: boolean
}

/** The provider and hooks, typed for one role of a contract. */
export interface RtHooks<C extends AnyContract, R extends RoleOf<C>> {
  /** Gives its tree the client (or a factory of it, called in the browser only). */
  RtProvider: (props: RtProviderProps<Client<C, R>>) => ReactNode
  /** The provider's client; throws outside a provider, and while a factory's client does not exist yet (server rendering, hydration). */
  useRt: () => Client<C, R>
  /** Listens to an event while mounted; the listener of the last render is called. */
  useEvent: <E extends EventName<C, R>>(event: E, listener: (payload: PayloadOut<MessagesOf<C, R>, E>) => void) => void
  /** Subscribes to a topic stream while mounted; params changes move to the new stream. */
  useSubscription: <T extends TopicName<C, R>>(topic: T, ...args: SubscriptionArgs<MessagesOf<C, R>, T>) => SubscriptionState<MessagesOf<C, R>, T>
  /** A procedure: `call` starts it, calls in flight are aborted on unmount. */
  useCall: <P extends ProcedureName<C, R>>(name: P) => CallState<C, R, P>
  /** The connection state and its last error. */
  useConnectionState: () => ConnectionStateValue
}
