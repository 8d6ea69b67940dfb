import type { ClientState, RtError, StateChange, StreamPosition, SubscribedInfo } from '@rt/client'

/** The part of an @rt client the hooks use, without the contract's types (the hooks add them back). */
export interface LooseClient {
  on(event: string, listener: (payload: unknown) => void): () => void
  subscribe(topic: string, ...args: unknown[]): LooseSubscription
  readonly call: Readonly<Record<string, (input?: unknown, options?: { signal?: AbortSignal; timeout?: number }) => Promise<unknown>>>
  readonly state: ClientState
  readonly lastError: RtError | undefined
  onStateChange(listener: (change: StateChange) => void): () => void
  close(): Promise<void>
}

/** A subscription handle as the client returns it (plain or history topic). */
export interface LooseSubscription {
  (): void
  readonly ready: Promise<SubscribedInfo | void>
  readonly position?: StreamPosition | undefined
}

/** Where a subscription stands: asking the server, acknowledged, or refused. */
export type SubscriptionStatus = 'subscribing' | 'live' | 'error'

/** What `useSubscription` returns, loosely typed; `createRtHooks` types `data`, `recovered` and `position` per topic. */
export interface LooseSubscriptionState {
  readonly data: unknown
  readonly status: SubscriptionStatus
  readonly error: RtError | undefined
  readonly recovered: boolean | undefined
  readonly position: StreamPosition | undefined
}

/** The connection's state and why it is not connected (`client.lastError`). */
export interface ConnectionStateValue {
  readonly state: ClientState
  /** The last failed attempt or lost link, or why the client closed; undefined while open. */
  readonly error: RtError | undefined
}
