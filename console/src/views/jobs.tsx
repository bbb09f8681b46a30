import { useState } from 'preact/hooks';
import { api } from '../api';
import { href, type Location } from '../router';
import type { Job, SyncProgress } from '../types';
import { Action, Ago, Badge, ErrorLine, Filters, filterOf, Json, Loading, PagedTable, Progress, Section, usePaged, useResource, type FilterField } from '../ui';

const FILTERS: FilterField[] = [
  { name: 'status', label: 'Status', options: ['queued', 'running', 'succeeded', 'failed', 'dead', 'cancelled'], hint: 'any' },
  { name: 'kind', label: 'Kind', hint: 'sync.gmail' },
  { name: 'userId', label: 'User', hint: 'user id' },
];
const RETRYABLE = new Set(['dead', 'failed']);
const CANCELLABLE = new Set(['queued', 'running']);

/** The queue's jobs, filtered by status, kind and user; several retried or cancelled at once. */
export function Jobs({ where }: { where: Location }) {
  const filter = filterOf(where, FILTERS);
  const paged = usePaged<Job>('/api/admin/jobs', filter, 3000);
  const { resource, rows } = paged;
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [bulkResult, setBulkResult] = useState<string>();
  const chosen = rows.filter((job) => selected.has(job.id));
  const toggle = (id: number) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
  };
  const bulk = (verb: 'retry' | 'cancel', jobs: Job[]) => async () => {
    const answer = await api<{ count: number }>(`/api/admin/jobs/${verb}`, { method: 'POST', body: { ids: jobs.map((job) => job.id) } });
    setBulkResult(`${verb === 'retry' ? 'Retried' : 'Cancelled'} ${answer.count} of ${jobs.length} job(s).`);
    setSelected(new Set());
  };

  return (
    <div class="view" data-view="jobs">
      <Filters view="jobs" filter={filter} fields={FILTERS} />
      <Section
        title="Jobs"
        actions={
          <>
            <Action label={`Retry selected (${chosen.filter((job) => RETRYABLE.has(job.status)).length})`}
              disabled={!chosen.some((job) => RETRYABLE.has(job.status))}
              run={bulk('retry', chosen.filter((job) => RETRYABLE.has(job.status)))} done={resource.reload} />
            <Action label={`Cancel selected (${chosen.filter((job) => CANCELLABLE.has(job.status)).length})`} kind="danger"
              disabled={!chosen.some((job) => CANCELLABLE.has(job.status))}
              run={bulk('cancel', chosen.filter((job) => CANCELLABLE.has(job.status)))} done={resource.reload} />
          </>
        }
      >
        {bulkResult && <p class="notice" role="status">{bulkResult}</p>}
        <PagedTable
          paged={paged}
          empty="No job matches."
          head={
            <>
              <th><input type="checkbox" aria-label="select all"
                checked={rows.length > 0 && rows.every((job) => selected.has(job.id))}
                onChange={(event) => setSelected(event.currentTarget.checked ? new Set(rows.map((job) => job.id)) : new Set())} /></th>
              <th>id</th><th>kind</th><th>user</th><th>status</th><th class="num">attempts</th><th>updated</th><th>last error</th>
            </>
          }
          row={(job) => (
            <tr key={job.id} data-job={job.id} data-status={job.status}>
              <td><input type="checkbox" aria-label={`select job ${job.id}`} checked={selected.has(job.id)} onChange={() => toggle(job.id)} /></td>
              <td><a href={href('jobs', job.id)}>{job.id}</a></td>
              <td>{job.kind}</td>
              <td>{job.userId}</td>
              <td><Badge value={job.status} /></td>
              <td class="num">{job.attempts}/{job.maxAttempts}</td>
              <td><Ago at={job.updatedAt} /></td>
              <td class="wrap clip">{job.lastError}</td>
            </tr>
          )}
        />
      </Section>
    </div>
  );
}

/** One job: payload, progress, attempts, last error; retry or cancel it. */
export function JobDetail({ id }: { id: string }) {
  const resource = useResource<{ job: Job }>(`/api/admin/jobs/${encodeURIComponent(id)}`, 2000);
  const job = resource.data?.job;
  return (
    <div class="view" data-view="job">
      <p><a href={href('jobs')}>← Jobs</a></p>
      <Loading resource={resource} />
      {job && (
        <Section
          title={`Job ${job.id}: ${job.kind}`}
          actions={
            <>
              <Action label="Retry" kind="primary" disabled={!RETRYABLE.has(job.status)} run={() => api(`/api/admin/jobs/${job.id}/retry`, { method: 'POST' })} done={resource.reload} />
              <Action label="Cancel" kind="danger" disabled={!CANCELLABLE.has(job.status)} run={() => api(`/api/admin/jobs/${job.id}/cancel`, { method: 'POST' })} done={resource.reload} />
            </>
          }
        >
          <dl class="facts">
            <dt>status</dt><dd><Badge value={job.status} /></dd>
            <dt>user</dt><dd><a href={href('jobs', { userId: job.userId })}>{job.userId}</a></dd>
            <dt>attempts</dt><dd>{job.attempts} of {job.maxAttempts}</dd>
            <dt>priority</dt><dd>{job.priority}</dd>
            <dt>run at</dt><dd><Ago at={job.runAt} /></dd>
            <dt>created</dt><dd><Ago at={job.createdAt} /></dd>
            <dt>updated</dt><dd><Ago at={job.updatedAt} /></dd>
            {job.lockedBy && (<><dt>held by</dt><dd>{job.lockedBy} until <Ago at={job.lockedUntil} /></dd></>)}
            {job.dedupeKey && (<><dt>dedupe key</dt><dd><code>{job.dedupeKey}</code></dd></>)}
          </dl>
          {job.lastError && (<><h3>Last error</h3><ErrorLine error={job.lastError} /></>)}
          {job.status === 'running' && isSyncProgress(job.progress) && <SyncBar progress={job.progress} />}
          <h3>Progress</h3>
          <Json value={job.progress} />
          <h3>Payload</h3>
          <Json value={job.payload} />
          {job.result !== undefined && job.result !== null && (<><h3>Result</h3><Json value={job.result} /></>)}
        </Section>
      )}
    </div>
  );
}

function isSyncProgress(value: unknown): value is SyncProgress {
  return typeof value === 'object' && value !== null && 'records' in value;
}

/** A sync's progress: a fraction where the provider estimated a total, else what was stored so far. */
export function SyncBar({ progress }: { progress: SyncProgress }) {
  const records = progress.records ?? 0;
  const done = progress.phase === 'done';
  const fraction = done ? 1 : progress.estimatedTotal ? Math.min(0.99, records / progress.estimatedTotal) : null;
  const total = progress.estimatedTotal && !done ? ` of ~${progress.estimatedTotal}` : '';
  const pages = progress.pages ?? 0;
  const label = `${done ? 'done' : progress.phase ?? 'running'}: ${records}${total} records, ${pages} page${pages === 1 ? '' : 's'}`;
  return <Progress value={fraction} label={label} />;
}
