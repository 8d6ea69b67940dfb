/** A close reason fits in a close frame: at most 123 bytes of UTF-8, with no lone surrogate. */
export function closeReason(text: string): string {
  let out = ''
  let bytes = 0
  for (const ch of text) {
    const c = ch.codePointAt(0)!
    const n = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4
    if (bytes + n > 123) break
    bytes += n
    out += c >= 0xd800 && c <= 0xdfff ? '\ufffd' : ch
  }
  return out
}
