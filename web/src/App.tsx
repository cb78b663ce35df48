import { useEffect, useRef } from 'react'
import { NavLink, Navigate, Route, Routes, useLocation } from 'react-router-dom'
import { useAuth } from './auth'
import { SignIn } from './screens/SignIn'
import { Today } from './screens/Today'
import { UploadContacts } from './screens/UploadContacts'
import { ContactRecords } from './screens/ContactRecords'
import { ContactPage } from './screens/ContactPage'
import { Customers } from './screens/Customers'
import { CustomerProfile } from './screens/CustomerProfile'
import { RefillReminders } from './screens/RefillReminders'
import { Reports } from './screens/Reports'
import { CreateBill } from './screens/CreateBill'
import { Staff } from './screens/Staff'
import { Operations } from './screens/Operations'

/** The screens, named as in the pharmacy's guide, in the order of a working day. */
export const SCREENS = [
  { path: '/today', label: 'Today', admin: false },
  { path: '/upload', label: 'Upload Contacts', admin: true },
  { path: '/contacts', label: 'Contact Records', admin: false },
  { path: '/customers', label: 'Customers', admin: false },
  { path: '/refills', label: 'Refill Reminders', admin: false },
  { path: '/reports', label: 'Reports', admin: false },
  { path: '/bills/new', label: 'Create Bill', admin: false },
  { path: '/staff', label: 'Staff', admin: true },
  { path: '/operations', label: 'Operations', admin: true },
] as const

export function App() {
  const { session, isAdmin, signOut } = useAuth()
  const location = useLocation()
  const main = useRef<HTMLElement>(null)

  // After a client-side navigation, move focus to the new screen's content (screen readers announce it).
  const first = useRef(true)
  useEffect(() => {
    if (first.current) {
      first.current = false
      return
    }
    main.current?.focus({ preventScroll: false })
  }, [location.pathname])

  if (!session) return <SignIn />
  const screens = SCREENS.filter((s) => isAdmin || !s.admin)
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <p className="brand">
          <span className="brand__mark" aria-hidden="true">
            ✚
          </span>{' '}
          Customer Tracking
        </p>
        <p className="whoami">
          <span>
            {session.user.name} <span className="muted">({isAdmin ? 'Admin' : 'Staff member'})</span>
          </span>
          <button type="button" className="btn btn--ghost" onClick={signOut}>
            Sign out
          </button>
        </p>
      </header>
      <nav className="mainnav" aria-label="Screens">
        <ul>
          {screens.map((screen) => (
            <li key={screen.path}>
              <NavLink to={screen.path} className={({ isActive }) => (isActive ? 'active' : undefined)}>
                {screen.label}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" ref={main} tabIndex={-1}>
        <Routes>
          <Route path="/" element={<Navigate to="/today" replace />} />
          <Route path="/today" element={<Today />} />
          <Route path="/upload" element={<AdminOnly element={<UploadContacts />} />} />
          <Route path="/contacts" element={<ContactRecords />} />
          <Route path="/contacts/:id" element={<ContactPage />} />
          <Route path="/customers" element={<Customers />} />
          <Route path="/customers/:id" element={<CustomerProfile />} />
          <Route path="/refills" element={<RefillReminders />} />
          <Route path="/reports" element={<Reports />} />
          <Route path="/bills/new" element={<CreateBill />} />
          <Route path="/staff" element={<AdminOnly element={<Staff />} />} />
          <Route path="/operations" element={<AdminOnly element={<Operations />} />} />
          <Route path="*" element={<NotFound />} />
        </Routes>
      </main>
    </div>
  )
}

function AdminOnly({ element }: { element: JSX.Element }) {
  const { isAdmin } = useAuth()
  if (isAdmin) return element
  return (
    <section aria-labelledby="forbidden-title">
      <h1 id="forbidden-title">For admins only</h1>
      <p>This screen is for admins. Ask an admin if you need something here.</p>
    </section>
  )
}

function NotFound() {
  return (
    <section aria-labelledby="nf-title">
      <h1 id="nf-title">Page not found</h1>
      <p>
        There is nothing at this address. Go to <NavLink to="/today">Today</NavLink>.
      </p>
    </section>
  )
}
