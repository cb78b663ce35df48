import { useState, type FormEvent } from 'react'
import { Link, useParams } from 'react-router-dom'
import type { Schemas } from '../api/client'
import { useCustomer, usePurchases, useRefills, useUpdateCustomer } from '../api/queries'
import { ChipsInput } from '../components/ChipsInput'
import { BusyButton, Check, Field, Loading, Notice, ProblemAlert, fieldErrors } from '../components/forms'
import { Pager } from '../components/Pager'
import { Badge, Empty, Screen } from '../components/Screen'
import { RefillStatusBadge } from '../components/StatusBadge'
import { Tabs } from '../components/Tabs'
import { formatDate, formatMoney } from '../format'
import { CATEGORY, GENDER, keys as labelKeys, label, type Category, type Gender } from '../labels'
import { AdherencePanel } from '../components/AdherencePanel'
import { CategoryHistory } from '../components/CategoryHistory'
import { ConsentBadges } from '../components/ConsentBadges'
import { ConsentEditor } from '../components/ConsentEditor'
import { ManualRefillReminder } from '../components/ManualRefillReminder'
import { savingsText } from '../components/savings'
import { profileChanges, profileDraft, type ProfileDraft } from './profileDraft'

export function CustomerProfile() {
  const id = Number(useParams().id)
  const customer = useCustomer(id)
  const [tab, setTab] = useState('details')
  if (customer.isPending) return <Loading what="Loading the customer" />
  if (customer.error || !customer.data)
    return (
      <Screen title="Customer">
        <ProblemAlert error={customer.error} context="The customer could not be shown" />
        <Link to="/customers">Back to Customers</Link>
      </Screen>
    )
  const c = customer.data
  return (
    <Screen
      title={c.name || c.phone || 'Customer'}
      actions={
        <Link to="/customers" className="btn btn--ghost">
          Back to Customers
        </Link>
      }
    >
      <div className="profile-top">
      <dl className="facts card">
        <div className="facts__wide">
          <dt>Phone</dt>
          <dd>
            {c.phone}
            <span className="block">
              <ConsentBadges consent={c.consent} />
            </span>
          </dd>
        </div>
        <div>
          <dt>Category</dt>
          <dd>{label(CATEGORY, c.category)}</dd>
        </div>
        <div>
          <dt>Total visits</dt>
          <dd>{c.total_visits ?? 0}</dd>
        </div>
        <div>
          <dt>Total purchases</dt>
          <dd>{formatMoney(c.total_purchases)}</dd>
        </div>
        <div>
          <dt>Generic savings</dt>
          <dd>{formatMoney(c.total_generic_savings ?? '0.00')}</dd>
        </div>
        <div>
          <dt>Generic education</dt>
          <dd>{c.generic_education_given ? (c.generic_education_given_on ? `Given on ${formatDate(c.generic_education_given_on)}` : 'Given') : 'Not given yet'}</dd>
        </div>
        <div>
          <dt>First visit</dt>
          <dd>{formatDate(c.first_visit_date)}</dd>
        </div>
        <div>
          <dt>Last visit</dt>
          <dd>{formatDate(c.last_visit_date)}</dd>
        </div>
        {c.contact_record_id != null && (
          <div>
            <dt>From the contact list</dt>
            <dd>
              <Link to={`/contacts/${c.contact_record_id}`}>Open the contact record</Link>
            </dd>
          </div>
        )}
      </dl>
      <CategoryHistory customer={c} />
      </div>
      <Tabs
        label="Customer"
        selected={tab}
        onSelect={setTab}
        tabs={[
          { id: 'details', label: 'Profile', content: <ProfileForm customer={c} /> },
          { id: 'purchases', label: 'Purchase history', content: <PurchaseHistory customerId={id} /> },
          {
            id: 'refills',
            label: 'Refill reminders',
            content: (
              <>
                <CustomerRefills customerId={id} />
                <ManualRefillReminder customerId={id} />
                <AdherencePanel customerId={id} />
              </>
            ),
          },
          { id: 'consent', label: 'Consent', content: c.phone ? <ConsentEditor phone={c.phone} consent={c.consent} /> : <Empty>No phone recorded.</Empty> },
        ]}
      />
    </Screen>
  )
}

function ProfileForm({ customer }: { customer: Schemas['Customer'] }) {
  const update = useUpdateCustomer(customer.id ?? 0)
  const [draft, setDraft] = useState<ProfileDraft>(() => profileDraft(customer))
  const [saved, setSaved] = useState(false)
  const changes = profileChanges(customer, draft)
  const dirty = Object.keys(changes).length > 0
  const set = <K extends keyof ProfileDraft>(key: K, value: ProfileDraft[K]) => {
    setSaved(false)
    setDraft({ ...draft, [key]: value })
  }
  const text = (key: keyof ProfileDraft) => (e: { target: { value: string } }) => set(key, e.target.value as never)

  function submit(event: FormEvent) {
    event.preventDefault()
    update.mutate(changes, {
      onSuccess: (fresh) => {
        setDraft(profileDraft(fresh))
        setSaved(true)
      },
    })
  }
  const e = update.error
  return (
    <form onSubmit={submit} noValidate aria-label="Edit customer details">
      <ProblemAlert error={e} context="Not saved" />
      <fieldset className="group">
        <legend>Basic</legend>
        <div className="grid-3">
          <Field label="Name" name="name" error={e}>
            <input value={draft.name} onChange={text('name')} />
          </Field>
          <Field label="Phone" name="phone" error={e}>
            <input type="tel" value={draft.phone} onChange={text('phone')} />
          </Field>
          <Field label="Email" name="email" error={e}>
            <input type="email" value={draft.email} onChange={text('email')} />
          </Field>
          <Field label="Age" name="age" error={e}>
            <input type="number" min={0} max={150} value={draft.age} onChange={text('age')} />
          </Field>
          <Field label="Gender" name="gender" error={e}>
            <select value={draft.gender} onChange={text('gender')}>
              <option value="">Not recorded</option>
              {labelKeys(GENDER).map((g) => (
                <option key={g} value={g}>
                  {GENDER[g as Gender]}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Category" name="category" error={e}>
            <select value={draft.category} onChange={text('category')}>
              {labelKeys(CATEGORY).map((c) => (
                <option key={c} value={c}>
                  {CATEGORY[c as Category]}
                </option>
              ))}
            </select>
          </Field>
        </div>
        <Field label="Address" name="address" error={e}>
          <textarea rows={2} value={draft.address} onChange={text('address')} />
        </Field>
      </fieldset>
      <fieldset className="group group--medical">
        <legend>
          Medical <Badge tone="info">Audited</Badge>
        </legend>
        <p className="hint">Every view and change of medical details is recorded in the audit log with your name.</p>
        <ChipsInput label="Chronic conditions" values={draft.chronic_conditions} onChange={(v) => set('chronic_conditions', v)} errors={fieldErrors(e, 'chronic_conditions')} />
        <ChipsInput label="Allergies" values={draft.allergies} onChange={(v) => set('allergies', v)} errors={fieldErrors(e, 'allergies')} />
        <Field label="Primary doctor" name="primary_doctor" error={e}>
          <input value={draft.primary_doctor} onChange={text('primary_doctor')} />
        </Field>
      </fieldset>
      <fieldset className="group">
        <legend>Preferences</legend>
        <Check label="Prefers generic" name="prefers_generic" checked={draft.prefers_generic} onChange={(v) => set('prefers_generic', v)} error={e} />
        <Check label="Generic education given" name="generic_education_given" checked={draft.generic_education_given} onChange={(v) => set('generic_education_given', v)} error={e} />
        {customer.generic_education_given && customer.generic_education_given_on && (
          <p className="hint">Generic education given on {formatDate(customer.generic_education_given_on)}.</p>
        )}
      </fieldset>
      <Field label="Special notes" name="special_notes" error={e}>
        <textarea rows={3} value={draft.special_notes} onChange={text('special_notes')} />
      </Field>
      <div className="form-actions">
        <BusyButton type="submit" className="btn btn--primary" busy={update.isPending} busyText="Saving…" disabled={!dirty}>
          Save changes
        </BusyButton>
        <button type="button" className="btn btn--ghost" disabled={!dirty || update.isPending} onClick={() => setDraft(profileDraft(customer))}>
          Undo changes
        </button>
      </div>
      {saved && !dirty && <Notice>Customer details saved.</Notice>}
    </form>
  )
}

function PurchaseHistory({ customerId }: { customerId: number }) {
  const [page, setPage] = useState(1)
  const purchases = usePurchases(customerId, page)
  if (purchases.isPending) return <Loading what="Loading purchases" />
  const items = purchases.data?.items ?? []
  return (
    <>
      <ProblemAlert error={purchases.error} />
      {items.length ? (
        <>
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">Purchase history, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Date</th>
                  <th scope="col">Medicine</th>
                  <th scope="col">Generic</th>
                  <th scope="col">Quantity</th>
                  <th scope="col">Amount</th>
                  <th scope="col">Savings</th>
                  <th scope="col">Duration</th>
                  <th scope="col">Refill due</th>
                  <th scope="col">Bill</th>
                </tr>
              </thead>
              <tbody>
                {items.map((p) => (
                  <tr key={p.id}>
                    <td>{formatDate(p.purchase_date)}</td>
                    <td>{p.medicine_name}</td>
                    <td>{p.is_generic ? 'Generic' : 'Branded'}</td>
                    <td className="num">{p.quantity}</td>
                    <td className="num">{formatMoney(p.amount)}</td>
                    <td className="num">{p.is_generic ? savingsText(p.savings, p.branded_price) : '—'}</td>
                    <td>{p.duration_days ? `${p.duration_days} days` : '—'}</td>
                    <td>{formatDate(p.refill_due_date)}</td>
                    <td>{p.bill_id != null ? `#${p.bill_id}` : '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager label="Purchases" page={page} perPage={purchases.data?.per_page ?? 10} total={purchases.data?.total ?? 0} onPage={setPage} />
        </>
      ) : (
        <Empty>No purchase recorded yet.</Empty>
      )}
    </>
  )
}

function CustomerRefills({ customerId }: { customerId: number }) {
  const refills = useRefills({ status: 'all', customer_id: customerId, page: 1 })
  if (refills.isPending) return <Loading what="Loading refill reminders" />
  const items = refills.data?.items ?? []
  return (
    <>
      <ProblemAlert error={refills.error} />
      {items.length ? (
        <ul className="rows" aria-label="Refill reminders of this customer">
          {items.map((r) => (
            <li key={r.id}>
              <span>
                <strong>{r.medicine_name}</strong> — refill on {formatDate(r.reminder_date)}
                {r.set_by_hand && (
                  <>
                    {' '}
                    <Badge tone="info">Set by hand</Badge>
                  </>
                )}
              </span>
              <RefillStatusBadge status={r.status} />
            </li>
          ))}
        </ul>
      ) : (
        <Empty>No refill reminder for this customer.</Empty>
      )}
    </>
  )
}
