// The Reports screen's panels that have their own query and paging: contact lists (ROI), generic
// medicines and adherence.
import { Link } from 'react-router-dom'
import { useAdherenceReport, useGenericsReport, useListReport, type AdherenceDays } from '../api/queries'
import { formatDate, formatDateTime, formatMoney, formatPercent } from '../format'
import type { ReportWindow } from '../labels'
import { useSearchState } from '../useSearchState'
import { pdcPercent } from './adherence'
import { ExportButton } from './ExportButton'
import { Field, Loading, ProblemAlert } from './forms'
import { Pager } from './Pager'
import { ADHERENCE_DAYS, ADHERENCE_THRESHOLDS, parseAdherenceDays, parseThreshold, thresholdPercent } from './reports'
import { Empty, Panel } from './Screen'

export function Metric({ name, value }: { name: string; value: string | number }) {
  return (
    <div className="metric">
      <dt>{name}</dt>
      <dd>{value}</dd>
    </div>
  )
}

/** Conversion per contact list: the ROI of each upload (GET /reports/lists). */
export function ListRoiReport({ window }: { window: ReportWindow }) {
  const { values, set } = useSearchState(['listsPage'] as const)
  const page = Math.max(1, Number(values.listsPage) || 1)
  const lists = useListReport(window, page)
  const items = lists.data?.items ?? []
  return (
    <Panel
      title="Contact Lists"
      id="lists-report-title"
      actions={<ExportButton what="report:lists" query={{ window }} label="Export the contact lists report" />}
    >
      <p className="muted">Conversion of each uploaded list: contacts it brought in the period, and those contacted and converted in the period.</p>
      <ProblemAlert error={lists.error} />
      {lists.isPending ? (
        <Loading what="Loading the contact lists report" />
      ) : items.length ? (
        <>
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">Conversion per contact list</caption>
              <thead>
                <tr>
                  <th scope="col">List</th>
                  <th scope="col">Uploaded</th>
                  <th scope="col">Contacts</th>
                  <th scope="col">Contacted</th>
                  <th scope="col">Converted</th>
                  <th scope="col">Conversion rate</th>
                  <th scope="col">Conversion value</th>
                </tr>
              </thead>
              <tbody>
                {items.map((l) => (
                  <tr key={String(l.upload_id)}>
                    <th scope="row">
                      <Link to={`/contacts?list=${l.upload_id}`}>{l.list_name || `List #${l.upload_id}`}</Link>
                    </th>
                    <td className="nowrap">{formatDateTime(l.uploaded_at)}</td>
                    <td className="num">{l.contacts ?? 0}</td>
                    <td className="num">{l.contacted ?? 0}</td>
                    <td className="num">{l.converted ?? 0}</td>
                    <td className="num">{formatPercent(l.conversion_rate)}</td>
                    <td className="num">{formatMoney(l.conversion_value)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager label="Contact lists" page={page} perPage={lists.data?.per_page ?? 10} total={lists.data?.total ?? 0} onPage={(p) => set({ listsPage: String(p) })} />
        </>
      ) : (
        <Empty>No contact list in this period.</Empty>
      )}
    </Panel>
  )
}

/** Generic share, sales and savings (GET /reports/generics). */
export function GenericSavings({ window }: { window: ReportWindow }) {
  const generics = useGenericsReport(window)
  const g = generics.data
  return (
    <Panel
      title="Generic Medicines"
      id="generics-report-title"
      actions={<ExportButton what="report:generics" query={{ window }} label="Export the generic medicines report" />}
    >
      <ProblemAlert error={generics.error} />
      {generics.isPending ? (
        <Loading what="Loading the generic medicines report" />
      ) : g ? (
        <dl className="metrics">
          <Metric name="Generic share" value={formatPercent(g.generic_share)} />
          <Metric name="Generic items" value={g.generic_items ?? 0} />
          <Metric name="Branded items" value={g.branded_items ?? 0} />
          <Metric name="Generic sales" value={formatMoney(g.generic_sales)} />
          <Metric name="Customer savings" value={formatMoney(g.savings)} />
          <Metric name="Customers educated" value={g.customers_educated ?? 0} />
          <Metric name="Educated, then bought a generic" value={g.educated_then_generic ?? 0} />
        </dl>
      ) : null}
    </Panel>
  )
}

/** Customers under the PDC threshold (GET /reports/adherence), lowest first. */
export function AdherenceReport() {
  const { values, set } = useSearchState(['threshold', 'pdcDays', 'adherencePage'] as const)
  const threshold = parseThreshold(values.threshold)
  const days: AdherenceDays = parseAdherenceDays(values.pdcDays)
  const page = Math.max(1, Number(values.adherencePage) || 1)
  const report = useAdherenceReport({ threshold, days, page })
  const items = report.data?.items ?? []
  return (
    <Panel
      title="Adherence"
      id="adherence-report-title"
      actions={<ExportButton what="report:adherence" query={{ threshold, days }} label="Export the adherence report" />}
    >
      <p className="muted">Customers who may be missing doses: the proportion of days covered (PDC) by their purchases of a medicine is below the threshold.</p>
      <form className="filters" aria-label="Adherence filters" onSubmit={(e) => e.preventDefault()}>
        <Field label="Days covered below">
          <select value={String(threshold)} onChange={(e) => set({ threshold: e.target.value, adherencePage: '' })}>
            {ADHERENCE_THRESHOLDS.map((t) => (
              <option key={t} value={String(t)}>
                {thresholdPercent(t)}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Over the last">
          <select value={String(days)} onChange={(e) => set({ pdcDays: e.target.value, adherencePage: '' })}>
            {ADHERENCE_DAYS.map((d) => (
              <option key={d} value={String(d)}>
                {d} days
              </option>
            ))}
          </select>
        </Field>
      </form>
      <ProblemAlert error={report.error} />
      {report.isPending ? (
        <Loading what="Loading the adherence report" />
      ) : items.length ? (
        <>
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">
                Customers with a medicine covered less than {thresholdPercent(threshold)} of the last {days} days, lowest first
              </caption>
              <thead>
                <tr>
                  <th scope="col">Customer</th>
                  <th scope="col">Phone</th>
                  <th scope="col">Medicine</th>
                  <th scope="col">Days covered</th>
                  <th scope="col">As of</th>
                </tr>
              </thead>
              <tbody>
                {items.map((a) => (
                  <tr key={`${a.customer_id}-${a.medicine_name}`}>
                    <th scope="row">
                      <Link to={`/customers/${a.customer_id}`}>{a.name || a.phone || `Customer #${a.customer_id}`}</Link>
                    </th>
                    <td className="nowrap">{a.phone ?? '—'}</td>
                    <td>{a.medicine_name ?? '—'}</td>
                    <td className="num">{pdcPercent(a.pdc)}</td>
                    <td className="nowrap">{formatDate(a.as_of)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager label="Adherence" page={page} perPage={report.data?.per_page ?? 25} total={report.data?.total ?? 0} onPage={(p) => set({ adherencePage: String(p) })} />
        </>
      ) : (
        <Empty>No customer below {thresholdPercent(threshold)} of days covered.</Empty>
      )}
    </Panel>
  )
}
