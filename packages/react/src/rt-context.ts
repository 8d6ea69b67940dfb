import { createContext, useContext } from 'react'
import type { LooseClient } from './types.js'

/** What a provider gives its tree: the client, or null while there is none (server rendering with a factory). */
export interface RtContextValue {
  client: LooseClient | null
}

/** The context `RtProvider` fills. */
export const RtContext = createContext<RtContextValue | null>(null)

/** The provider's client (null during server rendering with a factory); throws outside an `RtProvider`. */
export function useClientOrNull(hook: string): LooseClient | null {
  const value = useContext(RtContext)
  if (!value) throw new Error(`${hook}() must be used inside an <RtProvider>`)
  return value.client
}
