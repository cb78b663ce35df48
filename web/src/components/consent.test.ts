import { CONSENT_CHANNEL } from '../labels'
import { blockedReason, consentBody, consentText, consentTone, declinedMarker, emptyConsentDraft, interactionBlocked } from './consent'

describe('consent words', () => {
  it('says each channel and its state the way the badges show them', () => {
    expect(Object.values(CONSENT_CHANNEL)).toEqual(['WhatsApp', 'Call', 'SMS'])
    expect(consentText('whatsapp', 'declined')).toBe('WhatsApp: declined')
    expect(consentText('call', 'granted')).toBe('Call: granted')
    expect(consentText('sms', 'unknown')).toBe('SMS: not asked')
    expect(consentText('sms', undefined)).toBe('SMS: not asked')
  })
  it('colours a decline as bad and a grant as good', () => {
    expect(consentTone('declined')).toBe('bad')
    expect(consentTone('granted')).toBe('good')
    expect(consentTone('unknown')).toBe('neutral')
  })
})

describe('a contact action blocked by consent', () => {
  it('gives the reason only when the channel was declined', () => {
    const consent = { whatsapp: 'declined', call: 'granted', sms: 'unknown' } as const
    expect(blockedReason(consent, 'whatsapp')).toBe('Customer declined WhatsApp')
    expect(blockedReason(consent, 'call')).toBeNull()
    expect(blockedReason({ ...consent, call: 'declined' }, 'call')).toBe('Customer declined calls')
    expect(blockedReason({ ...consent, whatsapp: 'unknown' }, 'whatsapp')).toBeNull()
    expect(blockedReason(undefined, 'whatsapp')).toBeNull()
  })
})

describe('the consent form', () => {
  it('sends only the channels answered, with where it was said', () => {
    expect(consentBody({ ...emptyConsentDraft(), whatsapp: 'declined', source: ' reply STOP ' })).toEqual({
      body: { whatsapp: 'declined', source: 'reply STOP' },
    })
  })
  it('asks for an answer and a source before sending', () => {
    expect(consentBody(emptyConsentDraft())).toEqual({
      errors: { channels: [expect.stringMatching(/at least one channel/)], source: [expect.stringMatching(/where/)] },
    })
    expect(consentBody({ ...emptyConsentDraft(), call: 'granted' })).toEqual({ errors: { source: [expect.any(String)] } })
  })
})

describe('consent on a contact page and in the contact list', () => {
  it('blocks logging a call or a WhatsApp the phone declined, never a visit or an email', () => {
    const consent = { whatsapp: 'declined', call: 'declined', sms: 'declined' } as const
    expect(interactionBlocked(consent, 'call')).toBe('Customer declined calls')
    expect(interactionBlocked(consent, 'whatsapp')).toBe('Customer declined WhatsApp')
    expect(interactionBlocked(consent, 'visit')).toBeNull()
    expect(interactionBlocked(consent, 'email')).toBeNull()
    expect(interactionBlocked({ whatsapp: 'granted', call: 'unknown', sms: 'unknown' }, 'call')).toBeNull()
    expect(interactionBlocked(undefined, 'whatsapp')).toBeNull()
  })

  it('marks a row with the channels declined', () => {
    expect(declinedMarker({ whatsapp: 'declined', call: 'declined', sms: 'granted' })).toBe('Declined: WhatsApp, calls')
    expect(declinedMarker({ whatsapp: 'unknown', call: 'granted', sms: 'declined' })).toBe('Declined: SMS')
    expect(declinedMarker({ whatsapp: 'granted', call: 'unknown', sms: 'unknown' })).toBeNull()
    expect(declinedMarker(null)).toBeNull()
  })
})
