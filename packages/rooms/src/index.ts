export { RoomRegistry, roomSubject } from './room-registry.js'
export type { FanoutProbe, NativeFanout, RoomMember, RoomRegistryOptions } from './room-registry.js'
