import { Link } from 'react-router-dom'
import { useDailyConversion } from '../api/queries'
import { formatDate, formatMoney, pharmacyDay } from '../format'
import { Loading, ProblemAlert } from './forms'
import { dayOf } from './reports'
import { Panel } from './Screen'

/** Yesterday's conversions on Today (from GET /reports/conversion/daily, the last 7 days). */
export function YesterdayConversions() {
  const daily = useDailyConversion('7d')
  const yesterday = pharmacyDay(-1)
  const day = dayOf(daily.data?.days, yesterday)
  const converted = day?.converted ?? 0
  return (
    <Panel title="Yesterday's conversions" id="today-yesterday" actions={<Link to="/reports?window=7d">Open Reports</Link>}>
      <ProblemAlert error={daily.error} />
      {daily.isPending ? (
        <Loading what="Loading yesterday's conversions" />
      ) : daily.data ? (
        <p>
          {formatDate(yesterday)}: <strong>{converted}</strong> contact{converted === 1 ? '' : 's'} converted
          {converted > 0 && <> for {formatMoney(day?.conversion_value)}</>}, {day?.contacted ?? 0} contacted.
        </p>
      ) : null}
    </Panel>
  )
}
