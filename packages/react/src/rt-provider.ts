import { createElement, useEffect, useMemo, useRef, useSyncExternalStore, type ReactNode } from 'react'
import { RtContext } from './rt-context.js'
import type { LooseClient } from './types.js'

/** Props of `RtProvider`: the client (or a function that creates it) and the tree that uses it. */
export interface RtProviderProps<T> {
  /**
   * The client, or a function that creates it: called in the browser only (never during server
   * rendering or hydration), once per function, and that client is closed when the last provider
   * using it unmounts. Pass a stable function (module scope, `useCallback`): a new one is a new client.
   */
  client: T | (() => T)
  children?: ReactNode
}

interface Owned {
  factory: () => unknown
  client: LooseClient
  users: number
  timer: ReturnType<typeof setTimeout> | undefined
}

// By factory: a Strict Mode double render, or a remount, finds the client made the first time.
const owned = new WeakMap<() => unknown, Owned>()

const noSubscribe = () => () => {}
const inBrowser = () => true
const onServer = () => false

function acquire(factory: () => unknown): Owned {
  let entry = owned.get(factory)
  if (!entry) owned.set(factory, (entry = { factory, client: factory() as LooseClient, users: 0, timer: undefined }))
  return entry
}

/** Gives its tree the client the hooks use; with a factory, no socket is opened during server rendering or hydration. */
export function RtProvider<T>({ client, children }: RtProviderProps<T>): ReactNode {
  // False while server rendering and hydrating, true in the browser afterwards.
  const mounted = useSyncExternalStore(noSubscribe, inBrowser, onServer)
  const factory = typeof client === 'function' ? (client as () => unknown) : undefined
  const entry = useRef<Owned | undefined>(undefined)
  if (factory && mounted && entry.current?.factory !== factory) entry.current = acquire(factory)
  const current = factory ? (entry.current?.client ?? null) : (client as LooseClient)

  useEffect(() => {
    const e = entry.current
    if (!factory || !e) return
    clearTimeout(e.timer)
    e.users++
    return () => {
      // Closed a turn later: Strict Mode's remount (or a quick remount) keeps the same client.
      if (--e.users > 0) return
      e.timer = setTimeout(() => {
        if (e.users > 0) return
        if (owned.get(factory) === e) owned.delete(factory)
        if (entry.current === e) entry.current = undefined
        void e.client.close()
      }, 0)
    }
  }, [factory, current])

  const value = useMemo(() => ({ client: current }), [current])
  return createElement(RtContext.Provider, { value }, children)
}
