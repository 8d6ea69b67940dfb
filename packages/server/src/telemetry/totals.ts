import type { Frame } from '@rt/contract'

import type { ServerTotals as Totals } from '../types.js'

export type { Totals }

export const createTotals = (): Totals => ({ framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0, calls: 0, callErrors: 0, published: 0, delivered: 0 })

/** Bytes of a binary frame; UTF-16 code units of a text one (its bytes when ASCII, as JSON mostly is): no encoding pass. */
export const frameSize = (data: Frame): number => (typeof data === 'string' ? data.length : data.byteLength)
