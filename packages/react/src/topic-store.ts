import type { RtError, StateChange, StreamPosition, SubscribedInfo } from '@rt/client'
import type { LooseClient, LooseSubscription, LooseSubscriptionState } from './types.js'

/** What a topic's subscription is asked for: which stream, and the callbacks of the last render. */
export interface TopicRequest {
  topic: string
  /** False for a topic without params: then `params` is not sent. */
  hasParams: boolean
  params: unknown
  history: boolean
  options: { readonly current: TopicOptions | undefined }
}

/** Options of `useSubscription`. */
export interface TopicOptions {
  /** Called with every publication, in order (`data` only holds the last one). */
  onData?: (payload: any, meta: any) => void
  /** History topics: called on every acknowledgement (first subscribe, each resubscribe, each repair). */
  onSubscribed?: (info: SubscribedInfo) => void
  /** History topics: start from a stored position. Applies when this creates the client's subscription to the stream. */
  since?: StreamPosition | undefined
}

/** One stream for useSyncExternalStore: subscribed while React listens, with an immutable snapshot. */
export class TopicStore {
  readonly initial: LooseSubscriptionState
  private state: LooseSubscriptionState
  private readonly listeners = new Set<() => void>()
  private sub: LooseSubscription | undefined
  private offState: (() => void) | undefined
  /** The server acknowledged this subscription once (a plain topic's resubscribes are not acknowledged to the listener). */
  private acked = false

  constructor(
    private readonly client: LooseClient,
    private readonly req: TopicRequest,
  ) {
    this.initial = Object.freeze({ data: undefined, status: 'subscribing', error: undefined, recovered: undefined, position: req.options.current?.since ?? undefined })
    this.state = this.initial
  }

  readonly getSnapshot = (): LooseSubscriptionState => this.state

  readonly subscribe = (onChange: () => void): (() => void) => {
    this.listeners.add(onChange)
    if (this.listeners.size === 1) this.start()
    return () => {
      if (this.listeners.delete(onChange) && this.listeners.size === 0) this.stop()
    }
  }

  private set(patch: Partial<LooseSubscriptionState>): void {
    this.state = Object.freeze({ ...this.state, ...patch })
    for (const l of [...this.listeners]) l()
  }

  private start(): void {
    const { client, req } = this
    const opts = req.options.current
    const failed = (error: RtError) => this.set({ status: 'error', error })
    const listener = (payload: unknown, meta: unknown) => {
      this.set(req.history ? { data: payload, position: sub.position } : { data: payload })
      req.options.current?.onData?.(payload, meta)
    }
    const subscribed = (info: SubscribedInfo) => {
      this.set({ status: 'live', error: undefined, recovered: info.recovered, position: sub.position })
      req.options.current?.onSubscribed?.(info)
    }
    const options = req.history ? { onError: failed, onSubscribed: subscribed, since: opts?.since } : { onError: failed }
    const sub = client.subscribe(req.topic, ...(req.hasParams ? [req.params] : []), listener, options)
    this.sub = sub
    // A plain topic has no acknowledgement after a reconnect: it is live again once the link is.
    sub.ready.then(
      () => {
        if (this.sub !== sub) return
        this.acked = true
        if (!req.history) this.set({ status: 'live', error: undefined })
      },
      () => {},
    )
    this.offState = client.onStateChange((change) => this.sub === sub && this.connection(change))
  }

  private connection({ state, error }: StateChange): void {
    if (this.state.status === 'error') return
    if (state === 'closed') this.set({ status: 'error', error: (error as RtError | undefined) ?? this.client.lastError })
    else if (state === 'open') this.acked && !this.req.history && this.set({ status: 'live' })
    else if (this.state.status === 'live') this.set({ status: 'subscribing' })
  }

  private stop(): void {
    this.offState?.()
    this.sub?.()
    this.sub = this.offState = undefined
    this.acked = false
  }
}
