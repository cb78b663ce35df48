import { useState } from 'react'
import type { Schemas } from '../api/client'
import { useSendContactWhatsapp } from '../api/queries'
import { blockedReason } from './consent'
import { BusyButton, ProblemAlert } from './forms'

/** "Send WhatsApp": logs a whatsapp interaction (POST /contacts/{id}/whatsapp), then opens the
 * returned wa.me link in a new tab; the link stays offered in case the browser blocked the tab.
 * Disabled, with the reason beside it, when the phone declined WhatsApp. */
export function SendWhatsappButton({ contactId, consent }: { contactId: number; consent: Partial<Schemas['ConsentChannels']> | null | undefined }) {
  const send = useSendContactWhatsapp(contactId)
  const [url, setUrl] = useState<string | null>(null)
  const reason = blockedReason(consent, 'whatsapp')
  const reasonId = `contact-${contactId}-no-whatsapp`
  return (
    <div className="action-with-reason">
      <BusyButton
        className="btn"
        disabled={reason != null}
        aria-describedby={reason ? reasonId : undefined}
        busy={send.isPending}
        busyText="Sending…"
        onClick={() =>
          send.mutate(
            {},
            {
              onSuccess: (answer) => {
                if (!answer.url) return
                setUrl(answer.url)
                window.open(answer.url, '_blank', 'noopener,noreferrer')
              },
            },
          )
        }
      >
        Send WhatsApp
      </BusyButton>
      {reason && (
        <span className="blocked" id={reasonId}>
          {reason}
        </span>
      )}
      {url && !reason && (
        <a href={url} target="_blank" rel="noopener noreferrer">
          Open the WhatsApp message<span className="visually-hidden"> (new tab)</span>
        </a>
      )}
      <ProblemAlert error={send.error} context="WhatsApp not sent" />
    </div>
  )
}

/** "Call": the phone link, or a disabled button with the reason when the phone declined calls. */
export function CallAction({ phone, consent, onCall }: { phone: string | null | undefined; consent: Partial<Schemas['ConsentChannels']> | null | undefined; onCall: () => void }) {
  const reason = blockedReason(consent, 'call')
  if (reason || !phone) {
    const reasonId = `call-${phone ?? 'none'}-blocked`.replace(/[^\w-]/g, '')
    return (
      <div className="action-with-reason">
        <button type="button" className="btn" disabled aria-describedby={reason ? reasonId : undefined}>
          Call
        </button>
        {reason && (
          <span className="blocked" id={reasonId}>
            {reason}
          </span>
        )}
      </div>
    )
  }
  return (
    <a className="btn" href={`tel:${phone}`} onClick={onCall}>
      Call
    </a>
  )
}
