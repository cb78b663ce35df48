import { render, screen, within } from '@testing-library/react'
import { DailyConversionChart } from './DailyConversionChart'

// The canvas is Chart.js's; here the props it gets are what matters.
const bar = vi.hoisted(() => vi.fn())
vi.mock('react-chartjs-2', () => ({
  Bar: (props: { data: unknown; 'aria-label': string }) => {
    bar(props)
    return <canvas role="img" aria-label={props['aria-label']} />
  },
}))

const days = [
  { date: '2026-02-11', contacted: 0, converted: 0, conversion_value: '0.00' },
  { date: '2026-02-12', contacted: 3, converted: 1, conversion_value: '240.00' },
]

describe('DailyConversionChart', () => {
  it('draws contacted and converted per day', () => {
    render(<DailyConversionChart days={days} />)
    const { data } = bar.mock.calls.at(-1)?.[0] as { data: { labels: string[]; datasets: { label: string; data: number[] }[] } }
    expect(data.labels).toEqual(['11 Feb', '12 Feb'])
    expect(data.datasets.map((d) => [d.label, d.data])).toEqual([
      ['Contacted', [0, 3]],
      ['Converted', [0, 1]],
    ])
  })

  it('gives the same numbers as text: a summary and a table of the days with activity', () => {
    render(<DailyConversionChart days={days} />)
    const summary = 'Over 2 days: 3 contacted, 1 converted (₹240.00). Most conversions: 12 Feb, 1 (₹240.00).'
    expect(screen.getByRole('figure')).toHaveAccessibleName(summary)
    expect(screen.getByRole('img')).toHaveAccessibleName(`Contacted and converted per day. ${summary}`)
    const rows = within(screen.getByRole('table', { hidden: true })).getAllByRole('row', { hidden: true })
    expect(rows.map((r) => r.textContent)).toEqual(['DayContactedConvertedConversion value', '12 Feb 202631₹240.00'])
  })
})
