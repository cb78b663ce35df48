import { render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { QueryClient, QueryClientProvider } from '@tanstack/react-query'
import type { ReactNode } from 'react'
import { api } from '../api/client'
import { CallAction, SendWhatsappButton } from './SendWhatsappButton'

function wrap(children: ReactNode) {
  const client = new QueryClient({ defaultOptions: { mutations: { retry: false } } })
  return render(<QueryClientProvider client={client}>{children}</QueryClientProvider>)
}

const granted = { whatsapp: 'granted', call: 'granted', sms: 'unknown' } as const

describe('SendWhatsappButton', () => {
  afterEach(() => vi.restoreAllMocks())

  it('logs the WhatsApp through the API, then opens the wa.me link in a new tab', async () => {
    const post = vi.spyOn(api, 'POST').mockResolvedValue({
      data: { url: 'https://wa.me/919876543210?text=Hello', contact: { id: 7, status: 'contacted' } },
      response: new Response(null, { status: 201 }),
    } as never)
    const open = vi.spyOn(window, 'open').mockReturnValue(null)
    wrap(<SendWhatsappButton contactId={7} consent={granted} />)
    await userEvent.click(screen.getByRole('button', { name: 'Send WhatsApp' }))
    expect(post).toHaveBeenCalledWith('/api/v1/contacts/{contact_id}/whatsapp', expect.objectContaining({ params: { path: { contact_id: 7 } } }))
    expect(open).toHaveBeenCalledWith('https://wa.me/919876543210?text=Hello', '_blank', 'noopener,noreferrer')
    expect(await screen.findByRole('link', { name: /Open the WhatsApp message/ })).toHaveAttribute('href', 'https://wa.me/919876543210?text=Hello')
  })

  it('opens nothing when the API refuses (409: WhatsApp declined meanwhile) and says why', async () => {
    vi.spyOn(api, 'POST').mockResolvedValue({
      error: { title: 'Conflict', detail: 'the phone declined WhatsApp' },
      response: new Response(null, { status: 409 }),
    } as never)
    const open = vi.spyOn(window, 'open').mockReturnValue(null)
    wrap(<SendWhatsappButton contactId={7} consent={granted} />)
    await userEvent.click(screen.getByRole('button', { name: 'Send WhatsApp' }))
    expect(await screen.findByRole('alert')).toHaveTextContent('the phone declined WhatsApp')
    expect(open).not.toHaveBeenCalled()
  })

  it('is disabled with the reason beside it when the phone declined WhatsApp', () => {
    const post = vi.spyOn(api, 'POST')
    wrap(<SendWhatsappButton contactId={7} consent={{ ...granted, whatsapp: 'declined' }} />)
    const button = screen.getByRole('button', { name: 'Send WhatsApp' })
    expect(button).toBeDisabled()
    expect(button).toHaveAccessibleDescription('Customer declined WhatsApp')
    expect(screen.getByText('Customer declined WhatsApp')).toBeVisible()
    expect(post).not.toHaveBeenCalled()
  })
})

describe('CallAction', () => {
  it('is the phone link while calls are allowed', () => {
    render(<CallAction phone="+919876543210" consent={granted} onCall={() => {}} />)
    expect(screen.getByRole('link', { name: 'Call' })).toHaveAttribute('href', 'tel:+919876543210')
  })

  it('is a disabled button with the reason when the phone declined calls', () => {
    render(<CallAction phone="+919876543210" consent={{ ...granted, call: 'declined' }} onCall={() => {}} />)
    expect(screen.queryByRole('link', { name: 'Call' })).toBeNull()
    expect(screen.getByRole('button', { name: 'Call' })).toBeDisabled()
    expect(screen.getByRole('button', { name: 'Call' })).toHaveAccessibleDescription('Customer declined calls')
  })
})
