import { useCallback, useEffect, useId, useState } from 'react';
import type { AuditEvent, AuditExportFormat, AuditPage as AuditPageData } from '../../shared/api';
import { Field, Notice } from '../components/Field';
import { api, describeFailure } from '../lib/api';
import { exactTime, relativeTime } from '../lib/time';

const ACTIONS: Array<[string, string]> = [
  ['', 'All actions'],
  ['login', 'Logins (completed)'],
  ['login.', 'Login steps (password, codes)'],
  ['admin.', 'Administrator changes'],
  ['setup.', 'Setup links'],
  ['throttle.', 'Throttling and lockouts'],
  ['session.', 'Sessions'],
  ['password.', 'Password changes'],
];

const OUTCOMES: Array<[string, string]> = [
  ['', 'Any outcome'],
  ['success', 'Success'],
  ['failure', 'Failure'],
  ['denied', 'Denied'],
];

const EXPORT_FORMATS: Array<[AuditExportFormat, string]> = [
  ['csv', 'CSV (spreadsheets)'],
  ['ndjson', 'NDJSON (scripts)'],
];

/** The filters as a query string, the same for the page and its download. */
function filterQuery(filters: { action: string; outcome: string; admin: string }): URLSearchParams {
  const query = new URLSearchParams();
  if (filters.action) query.set('action', filters.action);
  if (filters.outcome) query.set('outcome', filters.outcome);
  if (filters.admin.trim()) query.set('admin', filters.admin.trim());
  return query;
}

function describeDetails(event: AuditEvent): string {
  return Object.entries(event.details)
    .map(([key, value]) => `${key}: ${String(value)}`)
    .join(', ');
}

function person(actor: AuditEvent['actor']): string {
  return actor ? actor.email : '—';
}

export function AuditPage() {
  const [action, setAction] = useState('');
  const [outcome, setOutcome] = useState('');
  const [admin, setAdmin] = useState('');
  const [format, setFormat] = useState<AuditExportFormat>('csv');
  const [events, setEvents] = useState<AuditEvent[] | null>(null);
  const [nextBefore, setNextBefore] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const actionId = useId();
  const outcomeId = useId();
  const formatId = useId();

  const load = useCallback(
    async (before?: string) => {
      const query = filterQuery({ action, outcome, admin });
      if (before) query.set('before', before);
      try {
        const page = await api<AuditPageData>(`/audit?${query.toString()}`);
        setEvents((current) => (before && current ? [...current, ...page.events] : page.events));
        setNextBefore(page.nextBefore);
        setError(null);
      } catch (failure) {
        setError(describeFailure(failure));
      }
    },
    [action, outcome, admin],
  );

  useEffect(() => {
    void load();
  }, [load]);

  const exportQuery = filterQuery({ action, outcome, admin });
  exportQuery.set('format', format);

  return (
    <section className="panel" aria-labelledby="audit-title">
      <div className="panel-header">
        <h1 id="audit-title">Audit log</h1>
      </div>
      <div className="filters">
        <div className="field">
          <label htmlFor={actionId}>Action</label>
          <select id={actionId} value={action} onChange={(e) => setAction(e.target.value)}>
            {ACTIONS.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={outcomeId}>Outcome</label>
          <select id={outcomeId} value={outcome} onChange={(e) => setOutcome(e.target.value)}>
            {OUTCOMES.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <Field label="Administrator's email" type="search" value={admin} onChange={(e) => setAdmin(e.target.value)} placeholder="Anyone" />
        <div className="field">
          <label htmlFor={formatId}>File format</label>
          <select id={formatId} value={format} onChange={(e) => setFormat(e.target.value as AuditExportFormat)}>
            {EXPORT_FORMATS.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        {/* A plain link: the session cookie goes with it (same origin), and the server names the file. */}
        <a className="as-button button-secondary" href={`/api/v1/audit/export?${exportQuery.toString()}`} download>
          Download
        </a>
      </div>
      {error && <Notice kind="error">{error}</Notice>}
      {events === null ? (
        <p aria-busy="true">Loading…</p>
      ) : events.length === 0 ? (
        <p>No events match.</p>
      ) : (
        <table className="list">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Action</th>
              <th scope="col">Outcome</th>
              <th scope="col">Who</th>
              <th scope="col">On whom</th>
              <th scope="col">From</th>
            </tr>
          </thead>
          <tbody>
            {events.map((event) => (
              <tr key={event.id}>
                <td>
                  <time dateTime={event.at} title={exactTime(event.at)}>
                    {relativeTime(event.at)}
                  </time>
                </td>
                <td>
                  {event.action}
                  {Object.keys(event.details).length > 0 && <div className="details">{describeDetails(event)}</div>}
                </td>
                <td className={`outcome-${event.outcome}`}>{event.outcome}</td>
                <td>{person(event.actor)}</td>
                <td>{person(event.target)}</td>
                <td>{event.ip ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {nextBefore && (
        <p>
          <button type="button" className="button-secondary" onClick={() => void load(nextBefore)}>
            Show older events
          </button>
        </p>
      )}
    </section>
  );
}
