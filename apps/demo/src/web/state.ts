// What the page knows. Filled by the @rt client's events, topics and calls (see app.ts).
import type { ClientState } from '@rt/client'
import type { MessagesOf, PayloadOut } from '@rt/contract'
import type { Contract } from '../contract.js'

type Msgs = MessagesOf<Contract, 'user'>
export type Message = PayloadOut<Msgs, 'messages'>
export type Dm = PayloadOut<Msgs, 'dm'>
export type Activity = PayloadOut<Msgs, 'activity'>

/** Injected by the server into the page: every node's WebSocket port and path. */
export interface PageConfig {
  nodes: { port: number; path: string }[]
  /** The node that served the page: the first one tried. */
  self: number
  transport: string
}

export interface Line {
  from: string
  text: string
  at: number
  system?: boolean
}

export type View = { kind: 'room'; name: string } | { kind: 'dm'; peer: string }

export const config: PageConfig = (window as unknown as { RT_DEMO?: PageConfig }).RT_DEMO ?? { nodes: [{ port: 0, path: '/rt' }], self: 0, transport: 'ws' }

export const state = {
  me: '',
  connection: 'connecting' as ClientState,
  nodeId: undefined as string | undefined,
  view: { kind: 'room', name: 'general' } as View,
  /** Rooms this person is in; rejoined after every reconnection. */
  joined: new Set<string>(),
  roomMembers: new Map<string, number>(),
  /** Messages by view key (`room:<name>`, `dm:<peer>`). */
  lines: new Map<string, Line[]>(),
  unread: new Map<string, number>(),
  dmPeers: new Set<string>(),
  online: new Map<string, { role: string; nodes: string[] }>(),
  /** Who is typing in the room on screen, with the timer that ends it. */
  typing: new Map<string, ReturnType<typeof setTimeout>>(),
}

export const keyOf = (v: View) => (v.kind === 'room' ? `room:${v.name}` : `dm:${v.peer}`)

export function reset(): void {
  for (const t of state.typing.values()) clearTimeout(t)
  for (const m of [state.joined, state.roomMembers, state.lines, state.unread, state.dmPeers, state.online, state.typing]) m.clear()
  state.view = { kind: 'room', name: 'general' }
}
