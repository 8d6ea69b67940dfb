export const num = (v: number | undefined, digits = 0) =>
  v === undefined || !Number.isFinite(v) ? '—' : v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })

/** Microseconds as milliseconds. */
export const ms = (us: number | undefined) => (us === undefined || !Number.isFinite(us) ? '—' : num(us / 1000, us < 10_000 ? 2 : 1))

export const kib = (bytes: number | undefined) => (bytes === undefined || !Number.isFinite(bytes) ? '—' : num(bytes / 1024, 1))

/** a / b as `1.23×`; higher is better for a. */
export const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0 ? '—' : `${num(a / b, 2)}×`

export function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`
  return [line(head), line(head.map((_, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n')
}
