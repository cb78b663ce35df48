import { render, screen } from '@testing-library/react'
import { ConsentBadges } from './ConsentBadges'

describe('ConsentBadges', () => {
  it('shows one badge per channel in the guide’s words', () => {
    render(<ConsentBadges consent={{ whatsapp: 'declined', call: 'granted', sms: 'unknown' }} />)
    expect(screen.getByText('WhatsApp: declined')).toHaveClass('badge--bad')
    expect(screen.getByText('Call: granted')).toHaveClass('badge--good')
    expect(screen.getByText('SMS: not asked')).toHaveClass('badge--neutral')
  })
})
