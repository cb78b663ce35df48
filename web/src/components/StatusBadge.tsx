import { CONTACT_STATUS, REFILL_STATUS, label, type ContactStatus, type RefillStatus } from '../labels'
import { Badge } from './Screen'

const CONTACT_TONE: Record<ContactStatus, 'neutral' | 'good' | 'warn' | 'info'> = {
  pending: 'neutral',
  contacted: 'info',
  converted: 'good',
  yellow: 'warn',
}

export function ContactStatusBadge({ status }: { status?: ContactStatus | null }) {
  return <Badge tone={status ? CONTACT_TONE[status] : 'neutral'}>{label(CONTACT_STATUS, status)}</Badge>
}

export function RefillStatusBadge({ status }: { status?: RefillStatus | null }) {
  const tone = status === 'purchased' ? 'good' : status === 'responded' ? 'info' : 'neutral'
  return <Badge tone={tone}>{label(REFILL_STATUS, status)}</Badge>
}
