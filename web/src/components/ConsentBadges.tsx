import type { Schemas } from '../api/client'
import { Badge } from './Screen'
import { CHANNELS, consentText, consentTone } from './consent'

/** One badge per channel: "WhatsApp: declined", "Call: granted", "SMS: not asked". */
export function ConsentBadges({ consent }: { consent: Partial<Schemas['ConsentChannels']> | null | undefined }) {
  return (
    <span className="badges">
      {CHANNELS.map((channel) => (
        <Badge key={channel} tone={consentTone(consent?.[channel])}>
          {consentText(channel, consent?.[channel])}
        </Badge>
      ))}
    </span>
  )
}
