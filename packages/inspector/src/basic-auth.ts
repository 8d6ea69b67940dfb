import { createHash, timingSafeEqual } from 'node:crypto'
import type { InspectorRequest } from './handle-request.js'

const digest = (s: string) => createHash('sha256').update(s).digest()

/** An `auth` hook for HTTP Basic credentials (the browser asks for them); compares in constant time. */
export function basicAuth(credentials: { password: string; username?: string }): (request: InspectorRequest) => boolean {
  const { password, username = 'admin' } = credentials
  if (typeof password !== 'string' || password === '') throw new TypeError('basicAuth: a non-empty password is required')
  const expected = digest(`${username}:${password}`)
  return (request) => {
    const header = request.headers.authorization ?? ''
    const m = /^Basic ([A-Za-z0-9+/=]{1,1024})$/i.exec(header.trim())
    if (!m) return false
    return timingSafeEqual(digest(Buffer.from(m[1]!, 'base64').toString('utf8')), expected)
  }
}
