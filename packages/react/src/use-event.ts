import { useEffect } from 'react'
import { useClientOrNull } from './rt-context.js'
import { useLatest } from './use-latest.js'

/** Listens to an event while mounted; the listener of the last render is the one called, without listening again. */
export function useEvent(event: string, listener: (payload: unknown) => void): void {
  const client = useClientOrNull('useEvent')
  const latest = useLatest(listener)
  useEffect(() => {
    if (!client) return
    return client.on(event, (payload) => latest.current(payload))
  }, [client, event, latest])
}
