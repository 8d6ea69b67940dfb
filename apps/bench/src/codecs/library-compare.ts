// `node --import ./src/loader/register.mjs --conditions=@rt/source src/codecs/library-compare.ts`:
// msgpackr against @msgpack/msgpack against JSON on @rt frames (an event, a result, a call), in
// this process: encoded size, and ns per encode and decode (median of 5 runs of 200 000). Also
// @rt's msgpackEncoder, which checks the bytes (check-msgpack.ts) before msgpackr decodes them.
import { Decoder, Encoder } from '@msgpack/msgpack'
import { msgpackEncoder } from '@rt/codec-msgpack'
import { Packr, Unpackr } from 'msgpackr'
import { chatMessage } from '../compression/chat.js'

export const FRAMES = {
  event: { t: 'event', n: 'message', d: { room: 'room:42', from: 'ann', text: 'Lunch at the bakery today? The new place by the station.', at: 1_764_590_000_000 } },
  result: { t: 'result', id: 1234, d: { ok: true, members: 42 } },
  call: { t: 'call', id: 1234, p: 'joinRoom', d: { room: 'room:42' } },
  chat: { t: 'event', n: 'message', d: chatMessage(1) },
} as const

const packr = new Packr({ useRecords: false })
const unpackr = new Unpackr({ useRecords: false })
// Instances kept, as a codec would keep them (the module functions make one per call).
const mpEncoder = new Encoder()
const mpDecoder = new Decoder()
const mpEncode = (v: unknown) => mpEncoder.encode(v)
const mpDecode = (b: Uint8Array) => mpDecoder.decode(b)
const RUNS = 5
const N = 200_000

function nsPerOp(fn: () => unknown): number {
  for (let i = 0; i < N / 4; i++) fn() // warm-up
  const times: number[] = []
  for (let r = 0; r < RUNS; r++) {
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < N; i++) fn()
    times.push(Number(process.hrtime.bigint() - t0) / N)
  }
  return times.sort((a, b) => a - b)[Math.floor(RUNS / 2)]!
}

export interface LibraryRow {
  frame: string
  codec: string
  bytes: number
  encodeNs: number
  decodeNs: number
}

export function compareLibraries(): LibraryRow[] {
  const rows: LibraryRow[] = []
  for (const [name, f] of Object.entries(FRAMES)) {
    const json = JSON.stringify(f)
    const a = packr.pack(f)
    const b = mpEncode(f)
    const c = msgpackEncoder.encode(f as never) as Uint8Array
    rows.push({ frame: name, codec: 'JSON', bytes: Buffer.byteLength(json), encodeNs: nsPerOp(() => JSON.stringify(f)), decodeNs: nsPerOp(() => JSON.parse(json)) })
    rows.push({ frame: name, codec: 'msgpackr', bytes: a.byteLength, encodeNs: nsPerOp(() => packr.pack(f)), decodeNs: nsPerOp(() => unpackr.unpack(a)) })
    rows.push({ frame: name, codec: '@msgpack/msgpack', bytes: b.byteLength, encodeNs: nsPerOp(() => mpEncode(f)), decodeNs: nsPerOp(() => mpDecode(b)) })
    rows.push({ frame: name, codec: '@rt/codec-msgpack', bytes: c.byteLength, encodeNs: nsPerOp(() => msgpackEncoder.encode(f as never)), decodeNs: nsPerOp(() => msgpackEncoder.decode(c)) })
  }
  return rows
}

export function libraryTable(rows: LibraryRow[]): string[] {
  return ['| frame | codec | bytes | encode ns | decode ns |', '|---|---|---|---|---|', ...rows.map((r) => `| ${r.frame} | ${r.codec} | ${r.bytes} | ${r.encodeNs.toFixed(0)} | ${r.decodeNs.toFixed(0)} |`)]
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(`${libraryTable(compareLibraries()).join('\n')}\n`)
