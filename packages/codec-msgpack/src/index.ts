export { msgpackEncoder } from './msgpack-encoder.js'
export { checkMessagePack, MAX_DEPTH } from './check-msgpack.js'
