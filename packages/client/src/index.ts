export { createClient } from './create-client.js'
export { backoffDelay } from './backoff.js'
export type { ReconnectOptions } from './backoff.js'
export type { ConnectErrorData } from './connect-error.js'
export type {
  CallOptions,
  Client,
  ClientOptions,
  ClientState,
  StateChange,
  SubscribeOptions,
  Subscription,
  WebSocketConstructor,
  WebSocketLike,
} from './types.js'
export { CloseCode, RtError } from '@rt/contract'
export type { RtErrorCode } from '@rt/contract'
