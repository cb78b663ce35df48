import { useState } from 'react'
import { exportList, type ExportFormat, type ExportQuery } from '../api/queries'
import { saveBlob } from '../download'
import { BusyButton, ProblemAlert } from './forms'

const FORMATS: Record<ExportFormat, string> = { csv: 'CSV', xlsx: 'Excel' }
const NAMES: Record<keyof ExportQuery, string> = {
  contacts: 'contacts',
  customers: 'customers',
  refills: 'refill-reminders',
  'report:conversion': 'conversion-report',
  'report:staff': 'staff-report',
  'report:lists': 'contact-lists-report',
  'report:categories': 'categories-report',
  'report:refills': 'refills-report',
  'report:generics': 'generics-report',
  'report:adherence': 'adherence-report',
}

/** "Export CSV" / "Export Excel" of a list or a report with its current filters, downloaded with the token.
 * `label` names the group when a screen has several (e.g. "Export the staff report"). */
export function ExportButton<W extends keyof ExportQuery>({ what, query, label = 'Export this list' }: { what: W; query: ExportQuery[W]; label?: string }) {
  const [busy, setBusy] = useState<ExportFormat | null>(null)
  const [error, setError] = useState<unknown>(null)
  async function download(format: ExportFormat) {
    setBusy(format)
    setError(null)
    try {
      const { blob, filename } = await exportList(what, format, query)
      saveBlob(blob, filename ?? `${NAMES[what]}.${format}`)
    } catch (err) {
      setError(err)
    } finally {
      setBusy(null)
    }
  }
  return (
    <div className="export">
      <div className="inline-actions" role="group" aria-label={label}>
        {(Object.keys(FORMATS) as ExportFormat[]).map((format) => (
          <BusyButton key={format} className="btn btn--small" busy={busy === format} busyText="Preparing…" disabled={busy != null} onClick={() => void download(format)}>
            Export {FORMATS[format]}
          </BusyButton>
        ))}
      </div>
      <ProblemAlert error={error} context="The export failed" />
    </div>
  )
}
