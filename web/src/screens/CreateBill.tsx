import { useState, type FormEvent } from 'react'
import { Link } from 'react-router-dom'
import { useQuery } from '@tanstack/react-query'
import type { Schemas } from '../api/client'
import { customerByPhone, refillsOfCustomer, useCreateBill } from '../api/queries'
import { BusyButton, Check, Field, Loading, ProblemAlert, fieldErrors } from '../components/forms'
import { Panel, Screen } from '../components/Screen'
import { savingsText, totalSavings } from '../components/savings'
import { formatDate, formatMoney } from '../format'
import { CATEGORY, keys as labelKeys } from '../labels'
import { billBody, draftTotal, emptyBill, emptyLine, type BillDraft, type BillLine } from './billForm'

export function CreateBill() {
  const create = useCreateBill()
  const [draft, setDraft] = useState<BillDraft>(emptyBill)
  const [bill, setBill] = useState<Schemas['Bill'] | null>(null)
  const e = create.error

  function set<K extends keyof BillDraft>(key: K, value: BillDraft[K]) {
    setDraft({ ...draft, [key]: value })
  }
  function setLine(key: number, change: Partial<BillLine>) {
    set(
      'items',
      draft.items.map((l) => (l.key === key ? { ...l, ...change } : l)),
    )
  }
  function submit(event: FormEvent) {
    event.preventDefault()
    create.mutate(billBody(draft), {
      onSuccess: (created) => {
        setBill(created)
        setDraft(emptyBill())
      },
    })
  }

  return (
    <Screen title="Create Bill" intro="Billing with customer tracking: the customer profile, the conversion of a contacted customer and the refill reminders follow from the bill.">
      <div className="grid-bill">
        <Panel title="New bill" id="bill-title">
          <form onSubmit={submit} noValidate aria-labelledby="bill-title">
            <ProblemAlert error={e} context="The bill was not created" />
            <div className="grid-3">
              <Field label="Customer phone" name="customer_phone" error={e}>
                <input type="tel" autoComplete="off" required value={draft.customer_phone} onChange={(ev) => set('customer_phone', ev.target.value)} />
              </Field>
              <Field label="Customer name" name="customer_name" error={e}>
                <input value={draft.customer_name} onChange={(ev) => set('customer_name', ev.target.value)} />
              </Field>
              <Field label="Customer category" name="customer_category" error={e}>
                <select required value={draft.customer_category} onChange={(ev) => set('customer_category', ev.target.value as BillDraft['customer_category'])}>
                  <option value="">Choose a category</option>
                  {labelKeys(CATEGORY).map((c) => (
                    <option key={c} value={c}>
                      {CATEGORY[c]}
                    </option>
                  ))}
                </select>
              </Field>
            </div>
            <Check label="Was contacted before" name="was_contacted_before" checked={draft.was_contacted_before} onChange={(v) => set('was_contacted_before', v)} error={e} />
            <Check label="Visited but no purchase" name="visited_no_purchase" checked={draft.visited_no_purchase} onChange={(v) => set('visited_no_purchase', v)} error={e} />
            {!draft.visited_no_purchase && (
              <fieldset className="group">
                <legend>Medicines</legend>
                {fieldErrors(e, 'items').length > 0 && <p className="field-error">{fieldErrors(e, 'items').join(' ')}</p>}
                <ol className="bill-lines">
                  {draft.items.map((line, index) => (
                    <li key={line.key} className="bill-line" aria-label={`Medicine ${index + 1}`}>
                      <Field label="Medicine name" name={`items.${index}.medicine_name`} error={e} className="bill-line__name">
                        <input value={line.medicine_name} onChange={(ev) => setLine(line.key, { medicine_name: ev.target.value })} />
                      </Field>
                      <Field label="Quantity" name={`items.${index}.quantity`} error={e}>
                        <input type="number" min={1} inputMode="numeric" value={line.quantity} onChange={(ev) => setLine(line.key, { quantity: ev.target.value })} />
                      </Field>
                      <Field label="Amount (₹)" name={`items.${index}.amount`} error={e}>
                        <input inputMode="decimal" value={line.amount} onChange={(ev) => setLine(line.key, { amount: ev.target.value })} />
                      </Field>
                      <Field label="Duration (days)" name={`items.${index}.duration_days`} error={e}>
                        <input type="number" min={1} inputMode="numeric" value={line.duration_days} onChange={(ev) => setLine(line.key, { duration_days: ev.target.value })} />
                      </Field>
                      <Check label="Generic" name={`items.${index}.is_generic`} checked={line.is_generic} onChange={(v) => setLine(line.key, { is_generic: v })} error={e} />
                      {line.is_generic && (
                        <Field label="Branded price (₹)" name={`items.${index}.branded_price`} error={e} className="bill-line__branded" hint="What the branded medicine would cost, for the savings.">
                          <input inputMode="decimal" value={line.branded_price} onChange={(ev) => setLine(line.key, { branded_price: ev.target.value })} />
                        </Field>
                      )}
                      <button
                        type="button"
                        className="btn btn--ghost btn--small"
                        disabled={draft.items.length === 1}
                        onClick={() => set('items', draft.items.filter((l) => l.key !== line.key))}
                        aria-label={`Remove medicine ${index + 1}`}
                      >
                        Remove
                      </button>
                    </li>
                  ))}
                </ol>
                <button type="button" className="btn btn--ghost" onClick={() => set('items', [...draft.items, emptyLine()])}>
                  Add medicine
                </button>
              </fieldset>
            )}
            <p className="total">
              Total: <strong>{formatMoney(draftTotal(draft))}</strong>
            </p>
            <BusyButton type="submit" className="btn btn--primary" busy={create.isPending} busyText="Creating the bill…">
              Create bill
            </BusyButton>
          </form>
        </Panel>
        <Panel title="What the bill did" id="bill-effects-title">
          {bill ? <BillEffects bill={bill} /> : <p className="muted">After a bill is created, its customer profile and refill reminders appear here as they are made.</p>}
        </Panel>
      </div>
    </Screen>
  )
}

const POLL_MS = 1000
const POLL_FOR_MS = 60_000

/** The effects of a bill in the other services, polled until they arrive (they follow in seconds). */
export function BillEffects({ bill }: { bill: Schemas['Bill'] }) {
  const started = bill.created_at ? Date.parse(bill.created_at) : Date.now()
  const within = () => Date.now() - started < POLL_FOR_MS
  const phone = bill.customer_phone ?? ''
  const customer = useQuery({
    queryKey: ['bill-effects', bill.id, 'customer'],
    queryFn: () => customerByPhone(phone),
    refetchInterval: (q) => (q.state.data && (q.state.data.last_visit_date ?? '') >= (bill.bill_date ?? '') ? false : within() ? POLL_MS : false),
  })
  const durations = (bill.items ?? []).filter((i) => i.duration_days)
  const customerId = customer.data?.id
  const fromThisBill = (r: Schemas['RefillReminder']) => r.status !== 'purchased' && (r.purchase_date ?? '') >= (bill.bill_date ?? '')
  const refills = useQuery({
    queryKey: ['bill-effects', bill.id, 'refills', customerId],
    enabled: customerId != null && durations.length > 0,
    queryFn: () => refillsOfCustomer(customerId ?? 0),
    refetchInterval: (q) => {
      const have = new Set((q.state.data?.items ?? []).filter((r) => fromThisBill(r)).map((r) => r.medicine_name))
      return durations.every((d) => have.has(d.medicine_name)) ? false : within() ? POLL_MS : false
    },
  })
  const open = (refills.data?.items ?? []).filter((r) => fromThisBill(r) && durations.some((d) => d.medicine_name === r.medicine_name))
  const savedItems = (bill.items ?? []).filter((i) => i.is_generic && i.savings != null)
  const saved = totalSavings(savedItems)
  return (
    <div aria-live="polite">
      <p className="alert alert--ok">
        Bill <strong>{bill.bill_number}</strong> created for {bill.customer_name || bill.customer_phone}: {formatMoney(bill.total_amount)}
        {bill.visited_no_purchase ? ' (visited, no purchase)' : ''}.
      </p>
      <ul className="effects">
        <li>
          {customer.data ? (
            <>
              Customer profile: <Link to={`/customers/${customer.data.id}`}>{customer.data.name || customer.data.phone}</Link>
            </>
          ) : customer.error ? (
            <ProblemAlert error={customer.error} />
          ) : within() ? (
            <Loading what="Waiting for the customer profile" />
          ) : (
            'The customer profile has not appeared yet; look in Customers in a moment.'
          )}
        </li>
        {durations.length > 0 && customer.data && (
          <li>
            {open.length ? (
              <>
                Refill reminder{open.length > 1 ? 's' : ''}:{' '}
                {open.map((r, i) => (
                  <span key={r.id}>
                    {i > 0 && ', '}
                    {r.medicine_name} on {formatDate(r.reminder_date)}
                  </span>
                ))}{' '}
                (<Link to="/refills?days=30">Refill Reminders</Link>)
              </>
            ) : within() ? (
              <Loading what="Waiting for the refill reminder" />
            ) : (
              'The refill reminder has not appeared yet; look in Refill Reminders in a moment.'
            )}
          </li>
        )}
        {saved != null && (
          <li>
            Generic savings: <strong>{formatMoney(saved)}</strong>
            <ul>
              {savedItems.map((i) => (
                <li key={i.id ?? i.line_no}>
                  {i.medicine_name}: {savingsText(i.savings, i.branded_price)}
                </li>
              ))}
            </ul>
          </li>
        )}
        {bill.was_contacted_before && <li>The contact with this phone, if there is one, is marked converted.</li>}
      </ul>
    </div>
  )
}
