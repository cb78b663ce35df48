import { BarElement, CategoryScale, Chart as ChartJS, LinearScale, Tooltip } from 'chart.js'
import { Bar } from 'react-chartjs-2'

ChartJS.register(CategoryScale, LinearScale, BarElement, Tooltip)

export interface FunnelStep {
  label: string
  value: number
}

/** A horizontal bar funnel with its numbers also as text (the chart itself is an image to assistive tech). */
export function FunnelChart({ title, steps }: { title: string; steps: FunnelStep[] }) {
  const description = steps.map((s) => `${s.label}: ${s.value}`).join(', ')
  return (
    <figure className="chart">
      <div className="chart__canvas">
        <Bar
          role="img"
          aria-label={`${title}. ${description}`}
          data={{
            labels: steps.map((s) => s.label),
            datasets: [{ label: title, data: steps.map((s) => s.value), backgroundColor: ['#7aa6c2', '#3f7fa6', '#0b6e4f', '#e0a800'].slice(0, steps.length), borderRadius: 4 }],
          }}
          options={{
            indexAxis: 'y',
            responsive: true,
            maintainAspectRatio: false,
            animation: false,
            plugins: { tooltip: { enabled: true } },
            scales: { x: { beginAtZero: true, ticks: { precision: 0 } } },
          }}
        />
      </div>
      <figcaption className="visually-hidden">{description}</figcaption>
    </figure>
  )
}
