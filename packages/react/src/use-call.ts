import { useCallback, useEffect, useRef, useState } from 'react'
import { useClientOrNull } from './rt-context.js'
import { useLatest } from './use-latest.js'

/** A call's options as the hook passes them on (the client's `CallOptions`). */
export interface UseCallOptions {
  timeout?: number
  signal?: AbortSignal
  offline?: 'wait' | 'fail'
}

/** The state of the last call started, and the function that starts one. */
export interface LooseCallState {
  readonly call: (input?: unknown, options?: UseCallOptions) => Promise<unknown>
  readonly data: unknown
  readonly error: Error | undefined
  readonly pending: boolean
}

interface Settled {
  data: unknown
  error: Error | undefined
  pending: boolean
}

const IDLE: Settled = { data: undefined, error: undefined, pending: false }

/** A procedure as a hook: `call` starts it; calls still in flight are aborted when the component unmounts. */
export function useCall(name: string): LooseCallState {
  const client = useLatest(useClientOrNull('useCall'))
  const [state, setState] = useState<Settled>(IDLE)
  const inFlight = useRef(new Set<AbortController>())
  const mounted = useRef(false)
  const last = useRef(0)

  useEffect(() => {
    mounted.current = true
    const calls = inFlight.current
    return () => {
      mounted.current = false
      for (const ac of calls) ac.abort(new DOMException(`Call "${name}" aborted: the component unmounted`, 'AbortError'))
      calls.clear()
    }
  }, [name])

  const call = useCallback(
    async (input?: unknown, options?: UseCallOptions) => {
      const c = client.current
      if (!c) throw new Error(`useCall("${name}"): there is no client during server rendering`)
      const ac = new AbortController()
      inFlight.current.add(ac)
      const signal = options?.signal ? AbortSignal.any([options.signal, ac.signal]) : ac.signal
      const id = ++last.current
      // Only the last call started reports into the state: an older one settling late does not overwrite it.
      const report = (next: Settled) => mounted.current && id === last.current && setState(next)
      setState((s) => ({ data: s.data, error: undefined, pending: true }))
      try {
        const data = await c.call[name]!(input, { ...options, signal })
        report({ data, error: undefined, pending: false })
        return data
      } catch (e) {
        report({ data: undefined, error: e instanceof Error ? e : new Error(String(e)), pending: false })
        throw e
      } finally {
        inFlight.current.delete(ac)
      }
    },
    [client, name],
  )
  return { call, ...state }
}
