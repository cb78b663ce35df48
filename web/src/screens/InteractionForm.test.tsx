import { render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { QueryClient, QueryClientProvider } from '@tanstack/react-query'
import { api } from '../api/client'
import { InteractionForm } from './InteractionForm'

function renderForm() {
  const client = new QueryClient({ defaultOptions: { mutations: { retry: false } } })
  return render(
    <QueryClientProvider client={client}>
      <InteractionForm contactId={7} />
    </QueryClientProvider>,
  )
}

describe('InteractionForm', () => {
  afterEach(() => vi.restoreAllMocks())

  it('has every field of the guide', () => {
    renderForm()
    for (const name of ['Interaction type', 'Notes', 'Customer response', 'Next action', 'Call duration (minutes)', 'Follow-up date']) {
      expect(screen.getByLabelText(name)).toBeInTheDocument()
    }
    expect(screen.getByRole('group', { name: 'Call successful' })).toBeInTheDocument()
  })

  it('sends the interaction and keeps what was typed when it fails', async () => {
    const post = vi.spyOn(api, 'POST').mockResolvedValue({
      error: { title: 'Validation failed', detail: 'the request has invalid fields: call_duration_minutes', errors: { call_duration_minutes: ['Must be at most 600.'] } },
      response: new Response(null, { status: 422 }),
    } as never)
    renderForm()
    await userEvent.type(screen.getByLabelText('Notes'), 'Asked about diabetes refills')
    await userEvent.type(screen.getByLabelText('Call duration (minutes)'), '900')
    await userEvent.click(screen.getByLabelText('Yes'))
    await userEvent.click(screen.getByRole('button', { name: 'Save interaction' }))

    expect(await screen.findByRole('alert')).toHaveTextContent('Validation failed')
    expect(screen.getByLabelText('Call duration (minutes)')).toHaveAccessibleDescription('Must be at most 600.')
    expect(screen.getByLabelText('Notes')).toHaveValue('Asked about diabetes refills')
    expect(post).toHaveBeenCalledWith('/api/v1/contacts/{contact_id}/interactions', expect.objectContaining({
      params: { path: { contact_id: 7 } },
      body: expect.objectContaining({ type: 'call', notes: 'Asked about diabetes refills', call_duration_minutes: 900, call_successful: true }),
    }))
  })

  it('does not offer to save a call the phone declined, and says why; a visit is still fine', async () => {
    const client = new QueryClient()
    render(
      <QueryClientProvider client={client}>
        <InteractionForm contactId={7} consent={{ whatsapp: 'granted', call: 'declined', sms: 'unknown' }} />
      </QueryClientProvider>,
    )
    const save = screen.getByRole('button', { name: 'Save interaction' })
    expect(save).toBeDisabled()
    expect(save).toHaveAccessibleDescription('Customer declined calls')
    await userEvent.selectOptions(screen.getByLabelText('Interaction type'), 'visit')
    expect(screen.getByRole('button', { name: 'Save interaction' })).toBeEnabled()
    expect(screen.queryByText('Customer declined calls')).toBeNull()
  })
})
