import { useState, type FormEvent } from 'react'
import { useConsentHistory, useSetConsent } from '../api/queries'
import { formatDateTime } from '../format'
import { CONSENT_CHANNEL, CONSENT_SOURCES, CONSENT_STATE, keys as labelKeys, type ConsentChannel, type ConsentState } from '../labels'
import { BusyButton, Field, Loading, Notice, ProblemAlert, fieldErrors } from './forms'
import { Pager } from './Pager'
import { Empty } from './Screen'
import { CHANNELS, consentBody, consentText, emptyConsentDraft, type ConsentDraft } from './consent'
import type { Schemas } from '../api/client'

const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1)

/** Record what the customer said about being contacted, and where (PUT /consent/{phone}). */
export function ConsentEditor({ phone, consent }: { phone: string; consent?: Partial<Schemas['ConsentChannels']> }) {
  const save = useSetConsent(phone)
  const [draft, setDraft] = useState<ConsentDraft>(emptyConsentDraft)
  const [local, setLocal] = useState<Record<string, string[]>>({})
  const [saved, setSaved] = useState(false)
  const set = (change: Partial<ConsentDraft>) => {
    setSaved(false)
    setLocal({})
    setDraft({ ...draft, ...change })
  }
  function submit(event: FormEvent) {
    event.preventDefault()
    const checked = consentBody(draft)
    if ('errors' in checked) {
      setLocal(checked.errors)
      return
    }
    save.mutate(checked.body, {
      onSuccess: () => {
        setDraft(emptyConsentDraft())
        setSaved(true)
      },
    })
  }
  const e = save.error
  return (
    <>
      <form onSubmit={submit} noValidate aria-label="Record consent" className="consent-form">
        <ProblemAlert error={e} context="Consent not saved" />
        <fieldset className="group">
          <legend>What did the customer say?</legend>
          <div className="grid-3">
            {CHANNELS.map((channel) => (
              <Field key={channel} label={CONSENT_CHANNEL[channel]} name={channel} error={e} hint={`Now: ${consentText(channel, consent?.[channel]).split(': ')[1]}`}>
                <select value={draft[channel]} onChange={(ev) => set({ [channel]: ev.target.value as ConsentState | '' } as Partial<ConsentDraft>)}>
                  <option value="">Not asked now (leave as it is)</option>
                  {labelKeys(CONSENT_STATE).map((state) => (
                    <option key={state} value={state}>
                      {capital(CONSENT_STATE[state as ConsentState])}
                    </option>
                  ))}
                </select>
              </Field>
            ))}
          </div>
          {local.channels && <p className="field-error">{local.channels.join(' ')}</p>}
        </fieldset>
        <Field label="Where was this said?" name="source" error={e} messages={local.source} hint="For example: counter, phone call, reply STOP.">
          <input list="consent-sources" value={draft.source} maxLength={100} onChange={(ev) => set({ source: ev.target.value })} />
        </Field>
        <datalist id="consent-sources">
          {CONSENT_SOURCES.map((s) => (
            <option key={s} value={s} />
          ))}
        </datalist>
        <div className="form-actions">
          <BusyButton type="submit" className="btn btn--primary" busy={save.isPending} busyText="Saving…">
            Save consent
          </BusyButton>
        </div>
        {saved && <Notice>Consent saved.</Notice>}
        {fieldErrors(e, '_schema').length > 0 && <p className="field-error">{fieldErrors(e, '_schema').join(' ')}</p>}
      </form>
      <ConsentHistory phone={phone} />
    </>
  )
}

function ConsentHistory({ phone }: { phone: string }) {
  const [page, setPage] = useState(1)
  const history = useConsentHistory(phone, page)
  if (history.isPending) return <Loading what="Loading the consent history" />
  const items = history.data?.items ?? []
  return (
    <section aria-labelledby="consent-history-title">
      <h3 id="consent-history-title">Consent history</h3>
      <ProblemAlert error={history.error} />
      {items.length ? (
        <>
          <ul className="rows" aria-label="Consent changes, newest first">
            {items.map((change) => (
              <li key={change.id}>
                <span>
                  {CHANNELS.map((c: ConsentChannel) => consentText(c, change[c])).join(', ')}
                  <span className="block muted">
                    Said at: {change.source} · recorded by {change.changed_by_username ?? 'the system'}
                  </span>
                </span>
                <span className="nowrap">{formatDateTime(change.changed_at)}</span>
              </li>
            ))}
          </ul>
          <Pager label="Consent changes" page={page} perPage={history.data?.per_page ?? 10} total={history.data?.total ?? 0} onPage={setPage} />
        </>
      ) : (
        <Empty>No consent recorded yet for this phone.</Empty>
      )}
    </section>
  )
}
