import { useEffect, useId, useState } from 'react';
import { keepPreviousData, useInfiniteQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import type { AuditEvent, AuditExportFormat, AuditPage as AuditPageData } from '../../shared/api';
import { Field, Notice } from '../components/Field';
import { api, describeFailure } from '../lib/api';
import { queryKeys } from '../lib/queries';
import { dateAndTime, exactTime, relativeTime } from '../lib/time';
import { describeAuditEvent, rawDetails } from './audit-words';

type Filters = { action: string; outcome: string; admin: string };

/** The email filter waits this long after the last keystroke before it asks the server. */
const TYPING_PAUSE_MS = 300;

/** The filters as a query string, the same for the page and its download. */
function filterQuery(filters: Filters): URLSearchParams {
  const query = new URLSearchParams();
  if (filters.action) query.set('action', filters.action);
  if (filters.outcome) query.set('outcome', filters.outcome);
  if (filters.admin.trim()) query.set('admin', filters.admin.trim());
  return query;
}

/** `value`, once it has stopped changing for `delayMs`. */
function useSettled<T>(value: T, delayMs: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = window.setTimeout(() => setSettled(value), delayMs);
    return () => window.clearTimeout(timer);
  }, [value, delayMs]);
  return settled;
}

function person(actor: AuditEvent['actor']): string {
  return actor ? actor.email : '—';
}

export function AuditPage() {
  const { t } = useTranslation('audit');
  const [action, setAction] = useState('');
  const [outcome, setOutcome] = useState('');
  const [admin, setAdmin] = useState('');
  const [format, setFormat] = useState<AuditExportFormat>('csv');
  const actionId = useId();
  const outcomeId = useId();
  const formatId = useId();

  const settledAdmin = useSettled(admin.trim(), TYPING_PAUSE_MS);
  // Every filter is in the key: an answer to an older question can only fill its own entry.
  const filters: Filters = { action, outcome, admin: settledAdmin };
  const events = useInfiniteQuery({
    queryKey: queryKeys.audit(filters),
    queryFn: ({ pageParam }) => {
      const query = filterQuery(filters);
      if (pageParam) query.set('before', pageParam);
      return api<AuditPageData>(`/audit?${query.toString()}`);
    },
    initialPageParam: '',
    getNextPageParam: (page) => page.nextBefore ?? undefined,
    // The rows of the filters before stay, dimmed, until the new ones arrive.
    placeholderData: keepPreviousData,
    // A log: opening the page always asks for what happened since.
    staleTime: 0,
  });

  const actions: Array<[string, string]> = [
    ['', t('actionFilters.all')],
    ['login', t('actionFilters.login')],
    ['login.', t('actionFilters.loginSteps')],
    ['logout', t('actionFilters.logout')],
    ['admin.', t('actionFilters.admin')],
    ['setup.', t('actionFilters.setup')],
    ['throttle.', t('actionFilters.throttle')],
    ['session.', t('actionFilters.session')],
    ['password.', t('actionFilters.password')],
    ['authenticator.', t('actionFilters.authenticator')],
    ['api_key.', t('actionFilters.apiKey')],
    ['application.', t('actionFilters.application')],
    ['step_up', t('actionFilters.stepUp')],
    ['policy.', t('actionFilters.policy')],
    ['audit.', t('actionFilters.export')],
  ];
  const outcomes: Array<[string, string]> = [
    ['', t('outcomes.any')],
    ['success', t('outcomes.success')],
    ['failure', t('outcomes.failure')],
    ['denied', t('outcomes.denied')],
  ];
  const outcomeWords: Record<string, string> = { success: t('outcomes.success'), failure: t('outcomes.failure'), denied: t('outcomes.denied') };
  const formats: Array<[AuditExportFormat, string]> = [
    ['csv', t('formats.csv')],
    ['ndjson', t('formats.ndjson')],
  ];

  // The download takes the filters as they stand in the form, typed text included.
  const exportQuery = filterQuery({ action, outcome, admin });
  exportQuery.set('format', format);

  const rows = events.data?.pages.flatMap((page) => page.events) ?? null;
  const refreshing = events.isPlaceholderData;
  const columns = {
    when: t('columns.when'),
    event: t('columns.event'),
    outcome: t('columns.outcome'),
    who: t('columns.who'),
    onWhom: t('columns.onWhom'),
    from: t('columns.from'),
  };

  return (
    <section className="panel" aria-labelledby="audit-title">
      <div className="panel-header">
        <h1 id="audit-title">{t('title')}</h1>
      </div>
      <div className="filters">
        <div className="field">
          <label htmlFor={actionId}>{t('filters.action')}</label>
          <select id={actionId} value={action} onChange={(e) => setAction(e.target.value)}>
            {actions.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={outcomeId}>{t('filters.outcome')}</label>
          <select id={outcomeId} value={outcome} onChange={(e) => setOutcome(e.target.value)}>
            {outcomes.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <Field label={t('filters.admin')} type="search" value={admin} onChange={(e) => setAdmin(e.target.value)} placeholder={t('filters.adminPlaceholder')} />
        <div className="field">
          <label htmlFor={formatId}>{t('filters.format')}</label>
          <select id={formatId} value={format} onChange={(e) => setFormat(e.target.value as AuditExportFormat)}>
            {formats.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        {/* A plain link: the session cookie goes with it (same origin), and the server names the file. */}
        <a className="as-button button-secondary" href={`/api/v1/audit/export?${exportQuery.toString()}`} download>
          {t('filters.download')}
        </a>
      </div>
      {events.isError && <Notice kind="error">{describeFailure(events.error)}</Notice>}
      {rows === null ? (
        events.isPending && <p aria-busy="true">{t('loading')}</p>
      ) : rows.length === 0 ? (
        <p aria-busy={refreshing}>{t('empty')}</p>
      ) : (
        <table className={`list audit-list${refreshing ? ' audit-refreshing' : ''}`} aria-busy={refreshing}>
          {refreshing && <caption className="visually-hidden">{t('updating')}</caption>}
          <thead>
            <tr>
              <th scope="col">{columns.when}</th>
              <th scope="col">{columns.event}</th>
              <th scope="col">{columns.outcome}</th>
              <th scope="col">{columns.who}</th>
              <th scope="col">{columns.onWhom}</th>
              <th scope="col">{columns.from}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((event) => {
              const details = rawDetails(event);
              return (
                <tr key={event.id}>
                  <td data-label={columns.when}>
                    <time dateTime={event.at} title={exactTime(event.at)}>
                      {relativeTime(event.at)}
                    </time>
                    <span className="audit-exact">{dateAndTime(event.at)}</span>
                  </td>
                  <td data-label={columns.event}>
                    <span className="audit-sentence">{describeAuditEvent(t, event)}</span>
                    <span className="details audit-raw">
                      <code>{event.action}</code>
                      {details && <span> · {details}</span>}
                    </span>
                  </td>
                  <td data-label={columns.outcome} className={`outcome-${event.outcome}`}>
                    {outcomeWords[event.outcome] ?? event.outcome}
                  </td>
                  <td data-label={columns.who}>{person(event.actor)}</td>
                  <td data-label={columns.onWhom}>{person(event.target)}</td>
                  <td data-label={columns.from}>{event.ip ?? '—'}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {events.hasNextPage && (
        <p>
          <button type="button" className="button-secondary" disabled={events.isFetchingNextPage} onClick={() => void events.fetchNextPage()}>
            {events.isFetchingNextPage ? t('loadingOlder') : t('older')}
          </button>
        </p>
      )}
    </section>
  );
}
