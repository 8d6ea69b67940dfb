import type { Directory } from './directory.js'

/** One connection of a user, wherever it is. */
export interface PresenceEntry {
  connId: string
  nodeId: string
  role: string
  /** Connected since (ms since epoch). */
  since: number
}

export type PresenceEvent = 'online' | 'offline'

/** Who is online, where: answered from state replicated to every node (no fan-out per query). */
export interface Presence {
  /** Every connection of the user, on every node. */
  user(userId: string): Promise<PresenceEntry[]>
  isOnline(userId: string): Promise<boolean>
  /** Every user with a connection anywhere in the cluster. */
  users(): Promise<string[]>
  /** Connections and distinct users, cluster-wide. */
  count(): Promise<{ connections: number; users: number }>
  /** `online`: the user's first connection anywhere; `offline`: the last one gone (its node may have died). */
  on(event: PresenceEvent, listener: (userId: string) => void): () => void
}

/** Presence over the replicated directory; `emit` is fed by the directory's user transitions. */
export function createPresence(directory: () => Directory, report: (e: unknown) => void) {
  const listeners: Record<PresenceEvent, Set<(userId: string) => void>> = { online: new Set(), offline: new Set() }
  const presence: Presence = {
    async user(userId) {
      return directory()
        .userConns(userId)
        .map(({ connId, nodeId, role, since }) => ({ connId, nodeId, role, since }))
    },
    async isOnline(userId) {
      return directory().isOnline(userId)
    },
    async users() {
      return directory().users()
    },
    async count() {
      return directory().counts()
    },
    on(event, listener) {
      if (!(event in listeners)) throw new TypeError(`presence.on: unknown event "${String(event)}"`)
      const l = (u: string) => listener(u)
      listeners[event].add(l)
      return () => void listeners[event].delete(l)
    },
  }
  const emit = (userId: string, online: boolean) => {
    for (const l of [...listeners[online ? 'online' : 'offline']]) {
      try {
        l(userId)
      } catch (e) {
        report(e)
      }
    }
  }
  return { presence, emit }
}
