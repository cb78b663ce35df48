// What consent means on screen: the badge words, and why a contact action is not offered.
import type { ConsentBody, Schemas } from '../api/client'
import { CONSENT_CHANNEL, CONSENT_STATE, label, type ConsentChannel, type ConsentState } from '../labels'

export const CHANNELS: ConsentChannel[] = ['whatsapp', 'call', 'sms']

/** "WhatsApp: declined". */
export function consentText(channel: ConsentChannel, state: ConsentState | null | undefined): string {
  return `${CONSENT_CHANNEL[channel]}: ${label(CONSENT_STATE, state ?? 'unknown')}`
}

export function consentTone(state: ConsentState | null | undefined): 'good' | 'bad' | 'neutral' {
  return state === 'granted' ? 'good' : state === 'declined' ? 'bad' : 'neutral'
}

const DECLINED: Record<ConsentChannel, string> = {
  whatsapp: 'Customer declined WhatsApp',
  call: 'Customer declined calls',
  sms: 'Customer declined SMS',
}

/** Why a channel may not be used (the API answers 409 then), or null when it may. */
export function blockedReason(consent: Partial<Schemas['ConsentChannels']> | null | undefined, channel: ConsentChannel): string | null {
  return consent?.[channel] === 'declined' ? DECLINED[channel] : null
}

/** The consent form: '' = not asked this time (the channel is left as it is). */
export type ConsentDraft = Record<ConsentChannel, ConsentState | ''> & { source: string }

export function emptyConsentDraft(): ConsentDraft {
  return { whatsapp: '', call: '', sms: '', source: '' }
}

/** The PUT body (the channels answered and the source) or the messages to show beside the fields. */
export function consentBody(draft: ConsentDraft): { body: ConsentBody } | { errors: Record<string, string[]> } {
  const errors: Record<string, string[]> = {}
  const answered = CHANNELS.filter((c) => draft[c] !== '')
  if (!answered.length) errors.channels = ['Choose the answer for at least one channel.']
  if (!draft.source.trim()) errors.source = ['Say where the customer said this, e.g. “counter”.']
  if (Object.keys(errors).length) return { errors }
  const body: ConsentBody = { source: draft.source.trim() }
  for (const c of answered) body[c] = draft[c] as ConsentState
  return { body }
}

/** Why an interaction of this type may not be logged (a call or WhatsApp to a phone that declined it). */
export function interactionBlocked(
  consent: Partial<Schemas['ConsentChannels']> | null | undefined,
  type: string,
): string | null {
  return type === 'call' || type === 'whatsapp' ? blockedReason(consent, type) : null
}

const SHORT: Record<ConsentChannel, string> = { whatsapp: 'WhatsApp', call: 'calls', sms: 'SMS' }

/** The small marker of a list row: "Declined: WhatsApp, calls", or null when nothing is declined. */
export function declinedMarker(consent: Partial<Schemas['ConsentChannels']> | null | undefined): string | null {
  const declined = CHANNELS.filter((c) => consent?.[c] === 'declined')
  return declined.length ? `Declined: ${declined.map((c) => SHORT[c]).join(', ')}` : null
}
