// The hooks typed for the chat's contract, and one client per user name.
import { createClient, type Client } from '@rt/client'
import { createRtHooks } from '@rt/react'
import { contract, type Contract } from '../contract.js'

export const { RtProvider, useRt, useEvent, useSubscription, useCall, useConnectionState } = createRtHooks(contract, 'user')

export type ChatClient = Client<Contract, 'user'>

const factories = new Map<string, () => ChatClient>()

/** A stable factory per name: the provider calls it once, in the browser, and closes its client on unmount. */
export function clientFor(name: string): () => ChatClient {
  let f = factories.get(name)
  if (!f) {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/rt`
    factories.set(name, (f = () => createClient(contract, { url, role: 'user', auth: { name }, reconnect: { minDelayMs: 100, maxDelayMs: 1_000 } })))
  }
  return f
}
