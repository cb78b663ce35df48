import { useEffect, type ReactNode } from 'react'

/** A screen: its heading (the guide's name) and the document title. */
export function Screen({ title, intro, actions, children }: { title: string; intro?: ReactNode; actions?: ReactNode; children: ReactNode }) {
  useEffect(() => {
    document.title = `${title} · Customer Tracking`
  }, [title])
  return (
    <div className="screen">
      <div className="screen__head">
        <h1>{title}</h1>
        {actions && <div className="screen__actions">{actions}</div>}
      </div>
      {intro && <p className="screen__intro">{intro}</p>}
      {children}
    </div>
  )
}

/** A titled section of a screen (a region landmark). */
export function Panel({ title, id, children, actions }: { title: string; id: string; children: ReactNode; actions?: ReactNode }) {
  return (
    <section className="panel" aria-labelledby={id}>
      <div className="panel__head">
        <h2 id={id}>{title}</h2>
        {actions}
      </div>
      {children}
    </section>
  )
}

export function Badge({ tone = 'neutral', children }: { tone?: 'neutral' | 'good' | 'warn' | 'bad' | 'info'; children: ReactNode }) {
  return <span className={`badge badge--${tone}`}>{children}</span>
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>
}
