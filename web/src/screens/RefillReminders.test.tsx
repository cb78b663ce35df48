import { render, screen } from '@testing-library/react'
import { QueryClient, QueryClientProvider } from '@tanstack/react-query'
import { MemoryRouter } from 'react-router-dom'
import { api } from '../api/client'
import { RefillReminders } from './RefillReminders'

const reminder = (id: number, consent: { whatsapp: string; call: string; sms: string }, extra = {}) => ({
  id,
  customer_id: id,
  customer_name: `Customer ${id}`,
  customer_phone: `+91987654000${id}`,
  medicine_name: 'Amlodipine 5',
  reminder_date: '2026-02-01',
  days_until_due: 0,
  responded: false,
  status: 'open',
  set_by_hand: false,
  consent,
  ...extra,
})

function renderScreen(items: unknown[]) {
  vi.spyOn(api, 'GET').mockResolvedValue({ data: { items, page: 1, per_page: 25, total: items.length }, response: new Response(null, { status: 200 }) } as never)
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } })
  return render(
    <QueryClientProvider client={client}>
      <MemoryRouter initialEntries={['/refills?days=0']} future={{ v7_startTransition: true, v7_relativeSplatPath: true }}>
        <RefillReminders />
      </MemoryRouter>
    </QueryClientProvider>,
  )
}

describe('Refill Reminders and consent', () => {
  afterEach(() => vi.restoreAllMocks())

  it('disables WhatsApp and Call made with the reason when the customer declined them', async () => {
    renderScreen([
      reminder(1, { whatsapp: 'declined', call: 'declined', sms: 'unknown' }),
      reminder(2, { whatsapp: 'granted', call: 'unknown', sms: 'unknown' }, { set_by_hand: true, duration_days: null }),
    ])
    const declined = await screen.findByRole('group', { name: 'Actions for Customer 1, Amlodipine 5' })
    const whatsapp = declined.querySelector('button')!
    expect(whatsapp).toHaveTextContent('WhatsApp sent')
    expect(whatsapp).toBeDisabled()
    expect(whatsapp).toHaveAccessibleDescription('Customer declined WhatsApp')
    expect(screen.getByRole('button', { name: 'Call made', description: 'Customer declined calls' })).toBeDisabled()

    const open = screen.getByRole('group', { name: 'Actions for Customer 2, Amlodipine 5' })
    for (const button of open.querySelectorAll('button')) expect(button).toBeEnabled()
    expect(screen.getAllByText(/Customer declined/)).toHaveLength(2)
    expect(screen.getAllByText('Set by hand')).toHaveLength(1)
  })
})
