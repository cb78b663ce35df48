// Every word the screens show for an API value, in the pharmacy's words (the user guide's).
import type { InteractionBody, Schemas } from './api/client'

export type Category = NonNullable<Schemas['CustomerPatch']['category']>
export type ContactStatus = NonNullable<Schemas['Contact']['status']>
export type WhatsappStatus = NonNullable<Schemas['Contact']['whatsapp_status']>
export type InteractionType = InteractionBody['type']
export type RefillStatus = NonNullable<Schemas['RefillReminder']['status']>
export type Gender = NonNullable<Schemas['CustomerPatch']['gender']>
export type Role = NonNullable<Schemas['StaffIn']['role']>

export const CATEGORY: Record<Category, string> = {
  contact_sheet: 'Contact Sheet',
  first_time_prescription: 'First Time Prescription',
  regular_branded: 'Regular Branded',
  generic_informed: 'Generic Informed',
}

export const CONTACT_STATUS: Record<ContactStatus, string> = {
  pending: 'Pending',
  contacted: 'Contacted',
  converted: 'Converted',
  yellow: 'Yellow flag (visited, no purchase)',
}

export const WHATSAPP_STATUS: Record<WhatsappStatus, string> = {
  available: 'On WhatsApp',
  not_available: 'Not on WhatsApp',
  unknown: 'Not known',
}

export const INTERACTION_TYPE: Record<InteractionType, string> = {
  call: 'Phone call',
  whatsapp: 'WhatsApp message',
  visit: 'Store visit',
  email: 'Email',
}

export const REFILL_STATUS: Record<RefillStatus, string> = {
  open: 'Open',
  responded: 'Responded',
  purchased: 'Purchased',
}

export const GENDER: Record<Gender, string> = {
  female: 'Female',
  male: 'Male',
  other: 'Other',
  undisclosed: 'Prefers not to say',
}

export const ROLE: Record<Role, string> = { admin: 'Admin', staff: 'Staff member' }

export const UPLOAD_STATUS: Record<NonNullable<Schemas['Upload']['status']>, string> = {
  processing: 'Importing',
  completed: 'Imported',
  failed: 'Failed',
}

export const REPORT_WINDOW = { '7d': 'Last 7 days', '30d': 'Last 30 days', '90d': 'Last 90 days', all: 'All time' } as const
export type ReportWindow = keyof typeof REPORT_WINDOW

export const DAYS_AHEAD = { 0: 'Today (and overdue)', 7: 'Next 7 days', 14: 'Next 14 days', 30: 'Next 30 days' } as const

/** A label for any value of a map, or the value itself when the API sends something new. */
export function label<K extends string>(map: Record<K, string>, value: string | null | undefined): string {
  if (value == null || value === '') return '—'
  return (map as Record<string, string>)[value] ?? value
}

export function keys<K extends string>(map: Record<K, string>): K[] {
  return Object.keys(map) as K[]
}

export type ConsentChannel = keyof Schemas['ConsentChannels']
export type ConsentState = NonNullable<Schemas['ConsentChannels']['whatsapp']>

/** The channels a phone can agree or decline to be contacted on. */
export const CONSENT_CHANNEL: Record<ConsentChannel, string> = { whatsapp: 'WhatsApp', call: 'Call', sms: 'SMS' }

/** A channel's consent as the badge says it: "WhatsApp: declined". */
export const CONSENT_STATE: Record<ConsentState, string> = { granted: 'granted', declined: 'declined', unknown: 'not asked' }

/** Where consent was said, offered as suggestions (the API takes any text). */
export const CONSENT_SOURCES = ['counter', 'phone call', 'reply STOP'] as const

export const CATEGORY_SOURCE: Record<NonNullable<Schemas['CategoryChange']['source']>, string> = {
  bill: 'from a bill',
  staff: 'set by staff',
}
