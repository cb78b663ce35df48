import { render, screen } from '@testing-library/react'
import { QueryClient, QueryClientProvider } from '@tanstack/react-query'
import { MemoryRouter } from 'react-router-dom'
import { api } from '../api/client'
import { formatDate, pharmacyDay } from '../format'
import { YesterdayConversions } from './YesterdayConversions'

describe('YesterdayConversions', () => {
  afterEach(() => vi.restoreAllMocks())

  it("shows yesterday's row of the daily conversions", async () => {
    const yesterday = pharmacyDay(-1)
    const get = vi.spyOn(api, 'GET').mockResolvedValue({
      data: {
        window: '7d',
        days: [
          { date: pharmacyDay(-2), contacted: 9, converted: 4, conversion_value: '999.00' },
          { date: yesterday, contacted: 3, converted: 2, conversion_value: '480.50' },
          { date: pharmacyDay(0), contacted: 1, converted: 1, conversion_value: '10.00' },
        ],
      },
      response: new Response(null, { status: 200 }),
    } as never)
    render(
      <QueryClientProvider client={new QueryClient()}>
        <MemoryRouter>
          <YesterdayConversions />
        </MemoryRouter>
      </QueryClientProvider>,
    )
    const panel = await screen.findByText(/contacts converted/)
    expect(panel).toHaveTextContent(`${formatDate(yesterday)}: 2 contacts converted for ₹480.50, 3 contacted.`)
    expect(get).toHaveBeenCalledWith('/api/v1/reports/conversion/daily', { params: { query: { window: '7d' } } })
  })
})
