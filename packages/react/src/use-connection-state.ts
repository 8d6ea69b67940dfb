import { useCallback, useRef, useSyncExternalStore } from 'react'
import { useClientOrNull } from './rt-context.js'
import type { ConnectionStateValue, LooseClient } from './types.js'

/** What the hook returns during server rendering, and while there is no client yet. */
const INITIAL: ConnectionStateValue = Object.freeze({ state: 'connecting', error: undefined })
const initial = () => INITIAL
const noSubscribe = () => () => {}

/** The client's connection state (`connecting`, `open`, `reconnecting`, `closed`) and its last error, re-rendering on every change. */
export function useConnectionState(): ConnectionStateValue {
  const client = useClientOrNull('useConnectionState')
  const last = useRef<ConnectionStateValue>(INITIAL)
  const subscribe = useCallback((onChange: () => void) => (client ? client.onStateChange(onChange) : noSubscribe()), [client])
  const snapshot = useCallback(() => (client ? read(client, last) : INITIAL), [client])
  return useSyncExternalStore(subscribe, snapshot, initial)
}

/** The same object while nothing changed, as useSyncExternalStore requires. */
function read(client: LooseClient, last: { current: ConnectionStateValue }): ConnectionStateValue {
  const { state, lastError } = client
  if (last.current.state !== state || last.current.error !== lastError) last.current = { state, error: lastError }
  return last.current
}
