export { RoomRegistry, roomSubject } from './room-registry.js'
export type { NativeFanout, RoomMember, RoomRegistryOptions } from './room-registry.js'
