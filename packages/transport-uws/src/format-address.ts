/** Formats uWS's binary remote address the way Node's `socket.remoteAddress` does. */
export function formatAddress(buf: ArrayBuffer): string {
  const b = new Uint8Array(buf)
  if (b.length === 4) return b.join('.')
  if (b.length !== 16) return ''
  // An IPv4 client of a dual-stack socket: Node shows it as ::ffff:a.b.c.d.
  if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) return `::ffff:${b.subarray(12).join('.')}`
  const groups: string[] = []
  for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16))
  // RFC 5952: the longest run of two or more zero groups becomes "::".
  let best = -1
  let bestLen = 1
  for (let i = 0, run = -1; i <= 8; i++) {
    if (i < 8 && groups[i] === '0') {
      if (run < 0) run = i
    } else if (run >= 0) {
      if (i - run > bestLen) [best, bestLen] = [run, i - run]
      run = -1
    }
  }
  if (best < 0) return groups.join(':')
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`
}
