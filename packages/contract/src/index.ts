export { defineContract } from './define-contract.js'
export type {
  AnyContract,
  Contract,
  ContractDef,
  EventDef,
  ProcedureDef,
  TopicDef,
  Vocabulary,
} from './define-contract.js'
export type {
  CallInput,
  CallOutput,
  EventName,
  HandlerOutput,
  MessagesOf,
  ParamsIn,
  ParamsOut,
  PayloadIn,
  PayloadOut,
  ProcedureInput,
  ProcedureName,
  ProceduresOf,
  RoleEventName,
  RoleMessages,
  RoleOf,
  RoleProcedures,
  RoleTopicName,
  SharedEventName,
  SharedMessages,
  SharedProcedures,
  SharedTopicName,
  TopicName,
} from './types.js'
export { isSchema, validate } from './schema.js'
export type { InferIn, InferOut, Schema, SchemaIssue, ValidationResult } from './schema.js'
export { ERROR_CODES, RtError, isRtError, isRtErrorCode, toRtError } from './errors.js'
export type { RtErrorCode } from './errors.js'
export { CloseCode, PROTOCOL_VERSION, TERMINAL_CLOSE_CODES } from './protocol.js'
export {
  closeCodeFor,
  decodeClientFrame,
  decodeServerFrame,
  errorForClose,
  errorFrame,
  errorFromFrame,
  parseClientFrame,
  parseServerFrame,
} from './wire.js'
export type {
  AuthFrame,
  AuthedFrame,
  CallFrame,
  ClientFrame,
  CloseCodeValue,
  ErrorFrame,
  EventFrame,
  GoawayFrame,
  HelloFrame,
  PingFrame,
  PongFrame,
  PubFrame,
  RefreshFrame,
  ResultFrame,
  ServerFrame,
  SubAck,
  SubFrame,
  UnsubFrame,
  ValidationErrorData,
  WelcomeFrame,
  WireFrame,
} from './protocol.js'
export type { HistoryOptions, HistoryRead, HistoryReadOptions, HistoryStore, StoredPublication, StreamPosition } from './history.js'
export { jsonEncoder, parseSubprotocols, subprotocolOf, SUBPROTOCOL_PREFIX } from './encoder.js'
export type { Encoder, Frame } from './encoder.js'
export { indexContract } from './role-view.js'
export type { RoleView } from './role-view.js'
export { stableKey } from './stable-key.js'
export type { Bus, BusStatus, BusSubscription } from './bus.js'
