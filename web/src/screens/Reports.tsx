import { useCategoryReport, useConversionReport, useDailyConversion, useRefillReport, useStaffReport } from '../api/queries'
import { DailyConversionChart } from '../components/DailyConversionChart'
import { ExportButton } from '../components/ExportButton'
import { Field, Loading, ProblemAlert } from '../components/forms'
import { FunnelChart } from '../components/FunnelChart'
import { AdherenceReport, GenericSavings, ListRoiReport, Metric } from '../components/ReportPanels'
import { Empty, Panel, Screen } from '../components/Screen'
import { formatDate, formatMoney, formatPercent } from '../format'
import { CATEGORY, REPORT_WINDOW, label, type ReportWindow } from '../labels'
import { useSearchState } from '../useSearchState'

export function Reports() {
  const { values, set } = useSearchState(['window', 'listsPage'] as const)
  const window = (values.window in REPORT_WINDOW ? values.window : '30d') as ReportWindow
  const conversion = useConversionReport(window)
  const daily = useDailyConversion(window)
  const staff = useStaffReport(window)
  const categories = useCategoryReport(window)
  const refills = useRefillReport(window)
  const c = conversion.data
  const ranked = [...(staff.data?.items ?? [])].sort(
    (a, b) => (b.converted ?? 0) - (a.converted ?? 0) || Number(b.conversion_value ?? 0) - Number(a.conversion_value ?? 0),
  )

  return (
    <Screen title="Reports" intro="Reports follow the day's work within seconds.">
      <form className="filters" aria-label="Report period" onSubmit={(e) => e.preventDefault()}>
        <Field label="Period">
          <select value={window} onChange={(e) => set({ window: e.target.value, listsPage: '' })}>
            {Object.entries(REPORT_WINDOW).map(([value, text]) => (
              <option key={value} value={value}>
                {text}
              </option>
            ))}
          </select>
        </Field>
        {c?.from && (
          <p className="muted">
            {formatDate(c.from)} – {formatDate(c.to)}
          </p>
        )}
      </form>
      <Panel
        title="Conversion Report"
        id="conversion-title"
        actions={<ExportButton what="report:conversion" query={{ window }} label="Export the conversion report" />}
      >
        <ProblemAlert error={conversion.error} />
        {conversion.isPending ? (
          <Loading what="Loading the conversion report" />
        ) : c ? (
          <div className="grid-2">
            <dl className="metrics">
              <Metric name="Total contacts" value={c.total_contacts ?? 0} />
              <Metric name="Contacted" value={c.contacted ?? 0} />
              <Metric name="Converted" value={c.converted ?? 0} />
              <Metric name="Conversion rate" value={formatPercent(c.conversion_rate)} />
              <Metric name="Total conversion value" value={formatMoney(c.total_conversion_value)} />
              <Metric name="Average conversion value" value={formatMoney(c.average_conversion_value)} />
            </dl>
            <FunnelChart
              title="Contact funnel"
              steps={[
                { label: 'Total contacts', value: c.total_contacts ?? 0 },
                { label: 'Contacted', value: c.contacted ?? 0 },
                { label: 'Converted', value: c.converted ?? 0 },
              ]}
            />
          </div>
        ) : null}
        <section className="subsection" aria-labelledby="daily-title">
          <h3 id="daily-title">Conversions per day</h3>
          <ProblemAlert error={daily.error} />
          {daily.isPending ? <Loading what="Loading conversions per day" /> : daily.data ? <DailyConversionChart days={daily.data.days ?? []} /> : null}
        </section>
      </Panel>
      <Panel
        title="Staff Performance"
        id="staff-report-title"
        actions={<ExportButton what="report:staff" query={{ window }} label="Export the staff performance report" />}
      >
        <ProblemAlert error={staff.error} />
        {staff.isPending ? (
          <Loading what="Loading the staff report" />
        ) : ranked.length ? (
          <>
            <h3 id="staff-contacts-title">Contacts and interactions</h3>
            <div className="table-wrap">
              <table aria-labelledby="staff-contacts-title">
                <thead>
                  <tr>
                    <th scope="col">Rank</th>
                    <th scope="col">Staff member</th>
                    <th scope="col">Assigned</th>
                    <th scope="col">Contacted</th>
                    <th scope="col">Converted</th>
                    <th scope="col">Conversion rate</th>
                    <th scope="col">Conversion value</th>
                    <th scope="col">Calls</th>
                    <th scope="col">WhatsApp</th>
                    <th scope="col">Visits</th>
                    <th scope="col">Emails</th>
                    <th scope="col">Interactions</th>
                  </tr>
                </thead>
                <tbody>
                  {ranked.map((s, i) => (
                    <tr key={String(s.staff_id)}>
                      <td>{i + 1}</td>
                      <th scope="row">{s.name || `Staff #${s.staff_id}`}</th>
                      <td className="num">{s.assigned ?? 0}</td>
                      <td className="num">{s.contacted ?? 0}</td>
                      <td className="num">{s.converted ?? 0}</td>
                      <td className="num">{formatPercent(s.conversion_rate)}</td>
                      <td className="num">{formatMoney(s.conversion_value)}</td>
                      <td className="num">{s.interactions_by_type?.call ?? 0}</td>
                      <td className="num">{s.interactions_by_type?.whatsapp ?? 0}</td>
                      <td className="num">{s.interactions_by_type?.visit ?? 0}</td>
                      <td className="num">{s.interactions_by_type?.email ?? 0}</td>
                      <td className="num">{s.interactions ?? 0}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <h3 id="staff-refills-title">Refill reminders worked</h3>
            <div className="table-wrap">
              <table aria-labelledby="staff-refills-title">
                <thead>
                  <tr>
                    <th scope="col">Staff member</th>
                    <th scope="col">WhatsApp sent</th>
                    <th scope="col">Calls made</th>
                    <th scope="col">Responded</th>
                    <th scope="col">Purchased</th>
                    <th scope="col">Recovered value</th>
                  </tr>
                </thead>
                <tbody>
                  {ranked.map((s) => (
                    <tr key={String(s.staff_id)}>
                      <th scope="row">{s.name || `Staff #${s.staff_id}`}</th>
                      <td className="num">{s.refill_whatsapp_sent ?? 0}</td>
                      <td className="num">{s.refill_calls ?? 0}</td>
                      <td className="num">{s.refills_responded ?? 0}</td>
                      <td className="num">{s.refills_purchased ?? 0}</td>
                      <td className="num">{formatMoney(s.refill_recovered_value)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        ) : (
          <Empty>No staff activity in this period.</Empty>
        )}
      </Panel>
      <ListRoiReport window={window} />
      <div className="grid-2">
        <Panel
          title="Customer categories"
          id="categories-title"
          actions={<ExportButton what="report:categories" query={{ window }} label="Export the customer categories report" />}
        >
          <ProblemAlert error={categories.error} />
          {categories.isPending ? (
            <Loading what="Loading categories" />
          ) : categories.data?.items?.length ? (
            <div className="table-wrap">
              <table>
                <caption className="visually-hidden">Customers and sales per category</caption>
                <thead>
                  <tr>
                    <th scope="col">Category</th>
                    <th scope="col">Customers</th>
                    <th scope="col">Bills</th>
                    <th scope="col">Sales</th>
                  </tr>
                </thead>
                <tbody>
                  {categories.data.items.map((row) => (
                    <tr key={row.category}>
                      <td>{label(CATEGORY, row.category)}</td>
                      <td className="num">{row.customers}</td>
                      <td className="num">{row.bills}</td>
                      <td className="num">{formatMoney(row.sales)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : (
            <Empty>No bill in this period.</Empty>
          )}
        </Panel>
        <Panel
          title="Refill reminders"
          id="refill-report-title"
          actions={<ExportButton what="report:refills" query={{ window }} label="Export the refill reminders report" />}
        >
          <ProblemAlert error={refills.error} />
          {refills.isPending ? (
            <Loading what="Loading the refill report" />
          ) : refills.data ? (
            <dl className="metrics">
              <Metric name="Due" value={refills.data.due ?? 0} />
              <Metric name="Contacted" value={refills.data.contacted ?? 0} />
              <Metric name="Responded" value={refills.data.responded ?? 0} />
              <Metric name="Purchased" value={refills.data.purchased ?? 0} />
              <Metric name="Recovery rate" value={formatPercent(refills.data.recovery_rate)} />
            </dl>
          ) : null}
        </Panel>
      </div>
      <GenericSavings window={window} />
      <AdherenceReport />
    </Screen>
  )
}
