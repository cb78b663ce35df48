import { BarElement, CategoryScale, Chart as ChartJS, Legend, LinearScale, Tooltip } from 'chart.js'
import { Bar } from 'react-chartjs-2'
import type { Schemas } from '../api/client'
import { formatDate, formatMoney } from '../format'
import { activeDays, dailySeries, dailySummary } from './reports'

// The bar controller is registered by react-chartjs-2's <Bar>; only the parts used are added.
ChartJS.register(CategoryScale, LinearScale, BarElement, Tooltip, Legend)

/** Contacted and converted per day (GET /reports/conversion/daily), with the same numbers as text:
 * a summary under the chart and a table of the days with activity. */
export function DailyConversionChart({ days }: { days: Schemas['ConversionDay'][] }) {
  const series = dailySeries(days)
  const summary = dailySummary(days)
  const rows = activeDays(days)
  return (
    <figure className="chart chart--wide" aria-labelledby="daily-summary">
      <div className="chart__canvas">
        <Bar
          role="img"
          aria-label={`Contacted and converted per day. ${summary}`}
          data={{
            labels: series.labels,
            datasets: [
              { label: 'Contacted', data: series.contacted, backgroundColor: '#7aa6c2', borderRadius: 3 },
              { label: 'Converted', data: series.converted, backgroundColor: '#0b6e4f', borderRadius: 3 },
            ],
          }}
          options={{
            responsive: true,
            maintainAspectRatio: false,
            animation: false,
            plugins: { legend: { position: 'bottom' }, tooltip: { enabled: true } },
            scales: { x: { ticks: { autoSkip: true, maxRotation: 0 } }, y: { beginAtZero: true, ticks: { precision: 0 } } },
          }}
        />
      </div>
      <figcaption id="daily-summary" className="chart__summary">
        {summary}
      </figcaption>
      {rows.length > 0 && (
        <details className="chart__table">
          <summary>Numbers per day</summary>
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">Contacted and converted per day (days without activity left out)</caption>
              <thead>
                <tr>
                  <th scope="col">Day</th>
                  <th scope="col">Contacted</th>
                  <th scope="col">Converted</th>
                  <th scope="col">Conversion value</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((d) => (
                  <tr key={d.date}>
                    <th scope="row">{formatDate(d.date)}</th>
                    <td className="num">{d.contacted ?? 0}</td>
                    <td className="num">{d.converted ?? 0}</td>
                    <td className="num">{formatMoney(d.conversion_value)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </details>
      )}
    </figure>
  )
}
