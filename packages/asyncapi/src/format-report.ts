import type { CompatChange, CompatReport } from './check-compat.js'

/** Options of `formatCompatReport`. */
export interface FormatCompatOptions {
  /** List the safe changes too. @default true */
  safe?: boolean
  /** Possibly breaking changes do not count as breaks (the summary says so). @default false */
  allowPossible?: boolean
}

const LABEL: Record<CompatChange['severity'], string> = {
  breaking: 'BREAKING',
  'possibly-breaking': 'POSSIBLY BREAKING',
  safe: 'safe',
}

/** A compatibility report as text, one change per line and its details indented below it. */
export function formatCompatReport(report: CompatReport, options: FormatCompatOptions = {}): string {
  const lines: string[] = []
  for (const c of report.changes) {
    if (c.severity === 'safe' && options.safe === false) continue
    const roles = c.kind === 'role-removed' || c.kind === 'role-added' ? '' : ` [${c.roles.join(', ')}]`
    lines.push(`${LABEL[c.severity].padEnd(17)} ${c.message}${roles}`)
    for (const d of c.details) lines.push(`${' '.repeat(20)}${d}`)
  }
  const safe = report.changes.length - report.breaking - report.possiblyBreaking
  const counted = report.breaking + (options.allowPossible ? 0 : report.possiblyBreaking)
  const summary =
    report.changes.length === 0
      ? 'No changes that clients can see.'
      : `${report.breaking} breaking, ${report.possiblyBreaking} possibly breaking, ${safe} safe.` +
        (counted > 0 ? ' Deployed clients may break.' : ' Deployed clients keep working.') +
        (options.allowPossible && report.possiblyBreaking > 0 ? ' (possibly breaking changes allowed)' : '')
  return [...lines, ...(lines.length ? [''] : []), summary].join('\n') + '\n'
}
