export { createServer } from './create-server.js'
export { createMemoryBus, createMemoryHub } from './memory-bus.js'
export { createMemoryHistory, type MemoryHistoryOptions } from './history/memory-history.js'
export type { MemoryBusOptions, MemoryHub } from './memory-bus.js'
export type { Logger } from './telemetry/logger.js'
export { DEFAULT_LIMITS } from './limits.js'
export type { Limits } from './limits.js'
export type {
  AuthenticateInput,
  BaseContext,
  ClusterOptions,
  Conn,
  DisconnectReason,
  ErrorContext,
  Handler,
  Handlers,
  HistoryArgs,
  HistoryPage,
  HistoryQuery,
  HistoryTopicName,
  MemberInfo,
  NodeInfo,
  NodeStats,
  ConnectionQuery,
  TotalName,
  Presence,
  PresenceEntry,
  PresenceEvent,
  PublishResult,
  RoleConn,
  RoleScope,
  Room,
  Server,
  ServerOptions,
  ServerStats,
  ServerTotals,
  HistoryStats,
  Target,
  TopicApi,
  TopicListener,
  TopicMeta,
  TopicsOptions,
} from './types.js'
export type {
  SocketListener,
  Transport,
  TransportHandler,
  TransportListenOptions,
  TransportRequest,
  TransportSocket,
} from './transport.js'
export { CLOSE_GRACE_MS, QueuedSocket, closeGrace, createWriteScheduler, type WriteScheduler } from './write-queue.js'
export { CloseCode, RtError } from '@rt/contract'
export type { Bus, BusStatus, BusSubscription, Encoder, RtErrorCode } from '@rt/contract'
