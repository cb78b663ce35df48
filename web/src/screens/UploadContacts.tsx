import { useState, type DragEvent, type FormEvent } from 'react'
import { Link } from 'react-router-dom'
import { downloadUploadErrors, useStaff, useUpload, useUploadContacts, useUploads, type UploadAnswer } from '../api/queries'
import { BusyButton, Field, Loading, ProblemAlert, fieldErrors } from '../components/forms'
import { Pager } from '../components/Pager'
import { Badge, Empty, Panel, Screen } from '../components/Screen'
import { saveBlob } from '../download'
import { formatDateTime } from '../format'
import { UPLOAD_STATUS, label } from '../labels'
import type { Schemas } from '../api/client'
import { uploadSummary } from './uploadSummary'

const ACCEPT = '.csv,.xlsx,.xls'

export function UploadContacts() {
  const staff = useStaff()
  const upload = useUploadContacts()
  const [file, setFile] = useState<File | null>(null)
  const [listName, setListName] = useState('')
  const [assignTo, setAssignTo] = useState<number[]>([])
  const [dragging, setDragging] = useState(false)
  const [answer, setAnswer] = useState<UploadAnswer | null>(null)
  const [fileMessage, setFileMessage] = useState<string[]>([])
  const [page, setPage] = useState(1)

  const active = (staff.data?.items ?? []).filter((s) => s.active && s.role === 'staff')
  const names = new Map((staff.data?.items ?? []).map((s) => [s.id ?? 0, s.name ?? '']))
  const polled = useUpload(answer?.inBackground ? (answer.upload.id ?? null) : null, true)
  const current = answer?.inBackground ? (polled.data ?? answer.upload) : answer?.upload
  const stillRunning = current?.status === 'processing'
  const history = useUploads(page)

  function choose(chosen: File | undefined | null) {
    if (!chosen) return
    const ok = /\.(csv|xlsx|xls)$/i.test(chosen.name)
    setFileMessage(ok ? [] : [`${chosen.name} is not a CSV or Excel file (.csv, .xlsx, .xls).`])
    setFile(ok ? chosen : null)
  }

  function onDrop(event: DragEvent) {
    event.preventDefault()
    setDragging(false)
    choose(event.dataTransfer.files?.[0])
  }

  async function submit(event: FormEvent) {
    event.preventDefault()
    if (!file) {
      setFileMessage(['Choose a contact list first.'])
      return
    }
    setAnswer(null)
    upload.mutate({ file, listName, assignTo }, { onSuccess: (result) => setAnswer(result) })
  }

  return (
    <Screen title="Upload Contacts" intro="Upload a contact list (Excel or CSV with a phone column and an optional name column). Each phone becomes a pending contact assigned to a staff member.">
      {staff.isSuccess && active.length === 0 && (
        <p className="alert alert--info">
          There is no staff member yet, so contacts would have nobody to go to. <Link to="/staff">Add staff members in Staff</Link> first.
        </p>
      )}
      <div className="grid-2">
        <Panel title="New contact list" id="upload-form-title">
          <form onSubmit={submit} aria-labelledby="upload-form-title" noValidate>
            <ProblemAlert error={upload.error} context="The list was not imported" />
            <div
              className={`dropzone ${dragging ? 'dropzone--over' : ''}`}
              onDragOver={(e) => {
                e.preventDefault()
                setDragging(true)
              }}
              onDragLeave={() => setDragging(false)}
              onDrop={onDrop}
            >
              <Field label="Contact list file" name="file" error={upload.error} messages={fileMessage} hint="Choose File, or drop a .csv, .xlsx or .xls file here.">
                <input type="file" accept={ACCEPT} onChange={(e) => choose(e.target.files?.[0])} />
              </Field>
              {file && (
                <p className="muted">
                  Chosen: <strong>{file.name}</strong> ({Math.ceil(file.size / 1024)} kB)
                </p>
              )}
            </div>
            <Field label="List name" name="list_name" error={upload.error} hint="Where the list came from, e.g. “Health camp March”.">
              <input value={listName} maxLength={200} onChange={(e) => setListName(e.target.value)} />
            </Field>
            <fieldset className="checks">
              <legend>Assign to</legend>
              <p className="hint">Nobody ticked: the contacts are shared among every active staff member.</p>
              {staff.isPending && <Loading what="Loading staff" />}
              {active.map((s) => (
                <label key={s.id} className="check">
                  <input
                    type="checkbox"
                    checked={assignTo.includes(s.id ?? 0)}
                    onChange={(e) => setAssignTo(e.target.checked ? [...assignTo, s.id ?? 0] : assignTo.filter((id) => id !== s.id))}
                  />
                  {s.name}
                </label>
              ))}
              {fieldErrors(upload.error, 'assign_to').length > 0 && <p className="field-error">{fieldErrors(upload.error, 'assign_to').join(' ')}</p>}
            </fieldset>
            <BusyButton type="submit" className="btn btn--primary" busy={upload.isPending} busyText="Uploading…">
              Upload
            </BusyButton>
          </form>
        </Panel>
        <Panel title="Import summary" id="upload-summary-title">
          {!current && !upload.isPending && <Empty>The summary of the import appears here.</Empty>}
          {upload.isPending && <Loading what="Uploading" />}
          {current && (
            <div role="status" aria-live="polite">
              {stillRunning && (
                <>
                  <label htmlFor="upload-progress">Import progress</label>
                  <progress id="upload-progress" max={current.total_rows || 1} value={current.rows_done ?? 0}>
                    {current.rows_done ?? 0} of {current.total_rows ?? '?'}
                  </progress>
                </>
              )}
              <ul className="summary">
                {uploadSummary(current, names).map((line) => (
                  <li key={line}>{line}</li>
                ))}
              </ul>
              {!stillRunning && (current.invalid ?? 0) > 0 && <ErrorReport upload={current} />}
              {current.status === 'completed' && (
                <p>
                  <Link to={`/contacts?list=${current.id}`}>See the contacts of this list</Link>
                </p>
              )}
            </div>
          )}
        </Panel>
      </div>
      <Panel title="Upload history" id="upload-history-title">
        <ProblemAlert error={history.error} />
        {history.isPending ? (
          <Loading what="Loading uploads" />
        ) : history.data?.items?.length ? (
          <>
            <div className="table-wrap">
              <table>
                <caption className="visually-hidden">Contact lists uploaded, newest first</caption>
                <thead>
                  <tr>
                    <th scope="col">Uploaded</th>
                    <th scope="col">File</th>
                    <th scope="col">List name</th>
                    <th scope="col">Status</th>
                    <th scope="col">Imported</th>
                    <th scope="col">Skipped</th>
                    <th scope="col">Error report</th>
                  </tr>
                </thead>
                <tbody>
                  {history.data.items.map((u) => (
                    <tr key={u.id}>
                      <td>{formatDateTime(u.created_at)}</td>
                      <td>{u.filename}</td>
                      <td>{u.list_name || '—'}</td>
                      <td>
                        <Badge tone={u.status === 'completed' ? 'good' : u.status === 'failed' ? 'bad' : 'info'}>{label(UPLOAD_STATUS, u.status)}</Badge>
                      </td>
                      <td>
                        <Link to={`/contacts?list=${u.id}`}>{u.imported ?? 0}</Link>
                      </td>
                      <td>{(u.duplicates_in_file ?? 0) + (u.already_known ?? 0) + (u.invalid ?? 0)}</td>
                      <td>{(u.invalid ?? 0) > 0 ? <ErrorReport upload={u} compact /> : '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pager label="Upload history" page={page} perPage={history.data.per_page ?? 10} total={history.data.total ?? 0} onPage={setPage} />
          </>
        ) : (
          <Empty>No contact list has been uploaded yet.</Empty>
        )}
      </Panel>
    </Screen>
  )
}

function ErrorReport({ upload, compact = false }: { upload: Schemas['Upload']; compact?: boolean }) {
  const [busy, setBusy] = useState<string | null>(null)
  const [error, setError] = useState<unknown>(null)
  async function download(format: 'csv' | 'xlsx') {
    setBusy(format)
    setError(null)
    try {
      const blob = await downloadUploadErrors(upload.id ?? 0, format)
      saveBlob(blob, `upload-${upload.id}-errors.${format}`)
    } catch (err) {
      setError(err)
    } finally {
      setBusy(null)
    }
  }
  return (
    <span className="inline-actions">
      {!compact && <span>Rows that were not imported: </span>}
      <BusyButton className="btn btn--small" busy={busy === 'csv'} busyText="Downloading…" onClick={() => download('csv')}>
        CSV<span className="visually-hidden"> error report of {upload.filename}</span>
      </BusyButton>
      <BusyButton className="btn btn--small" busy={busy === 'xlsx'} busyText="Downloading…" onClick={() => download('xlsx')}>
        Excel<span className="visually-hidden"> error report of {upload.filename}</span>
      </BusyButton>
      {error != null && <ProblemAlert error={error} context="Download failed" />}
    </span>
  )
}
