export { createClient } from './create-client.js'
export { backoffDelay } from './backoff.js'
export type { ReconnectOptions } from './backoff.js'
export type { ConnectErrorData } from './connect-error.js'
export type {
  CallOptions,
  Client,
  ClientOptions,
  ClientState,
  HistorySubscribeOptions,
  HistorySubscription,
  PlainMeta,
  StateChange,
  SubscribedInfo,
  SubscribeOptions,
  Subscription,
  TopicMeta,
  WebSocketConstructor,
  WebSocketLike,
} from './types.js'
export { CloseCode, RtError } from '@rt/contract'
export type { RtErrorCode, StreamPosition } from '@rt/contract'
