import { useAdherence } from '../api/queries'
import { formatDate } from '../format'
import { Loading, ProblemAlert } from './forms'
import { Badge, Empty } from './Screen'
import { PDC_THRESHOLD, isLowPdc, pdcPercent } from './adherence'

/** Proportion of days covered per medicine over the last 180 days (GET /customers/{id}/adherence). */
export function AdherencePanel({ customerId }: { customerId: number }) {
  const adherence = useAdherence(customerId)
  const medicines = adherence.data?.medicines ?? []
  return (
    <section aria-labelledby="adherence-title" className="subsection">
      <h3 id="adherence-title">Adherence</h3>
      <p className="hint">
        Days covered of days since first fill, per medicine, over the last {adherence.data?.period_days ?? 180} days
        {adherence.data?.as_of ? ` (to ${formatDate(adherence.data.as_of)})` : ''}. Below {Math.round(PDC_THRESHOLD * 100)}% is highlighted.
      </p>
      <ProblemAlert error={adherence.error} />
      {adherence.isPending ? (
        <Loading what="Loading adherence" />
      ) : medicines.length ? (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">Adherence per medicine, lowest first</caption>
            <thead>
              <tr>
                <th scope="col">Medicine</th>
                <th scope="col" className="num">Days covered</th>
                <th scope="col">First fill</th>
                <th scope="col">Covered (PDC)</th>
              </tr>
            </thead>
            <tbody>
              {medicines.map((m) => {
                const low = isLowPdc(m.pdc)
                return (
                  <tr key={m.medicine_name} className={low ? 'row--low' : undefined}>
                    <td>{m.medicine_name}</td>
                    <td className="num">
                      {m.days_covered ?? 0} of {m.period_days ?? 0}
                    </td>
                    <td>{formatDate(m.period_start)}</td>
                    <td>
                      <strong>{pdcPercent(m.pdc)}</strong> {low && <Badge tone="bad">Below {Math.round(PDC_THRESHOLD * 100)}%</Badge>}
                    </td>
                  </tr>
                )
              })}
            </tbody>
          </table>
        </div>
      ) : (
        <Empty>No purchase with a duration in this period, so adherence cannot be worked out.</Empty>
      )}
    </section>
  )
}
