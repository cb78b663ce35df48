import { useState } from 'react'
import { render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { Tabs } from './Tabs'

function Example() {
  const [selected, setSelected] = useState('a')
  return (
    <Tabs
      label="Example"
      selected={selected}
      onSelect={setSelected}
      tabs={[
        { id: 'a', label: 'Profile', content: <p>profile panel</p> },
        { id: 'b', label: 'Purchase history', content: <p>history panel</p> },
      ]}
    />
  )
}

describe('Tabs', () => {
  it('follows the WAI-ARIA tabs pattern with arrow keys', async () => {
    render(<Example />)
    const first = screen.getByRole('tab', { name: 'Profile' })
    expect(first).toHaveAttribute('aria-selected', 'true')
    expect(screen.getByRole('tabpanel')).toHaveTextContent('profile panel')
    first.focus()
    await userEvent.keyboard('{ArrowRight}')
    const second = screen.getByRole('tab', { name: 'Purchase history' })
    expect(second).toHaveFocus()
    expect(second).toHaveAttribute('aria-selected', 'true')
    expect(screen.getByRole('tabpanel')).toHaveTextContent('history panel')
  })
})
