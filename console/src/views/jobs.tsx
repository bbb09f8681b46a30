import { useState } from 'preact/hooks';
import { api } from '../api';
import { go, href, type Location } from '../router';
import type { Job, SyncProgress } from '../types';
import { Action, Ago, Badge, ErrorLine, Json, Loading, Progress, Section, Empty, usePaged, useResource } from '../ui';

const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'dead', 'cancelled'];
const RETRYABLE = new Set(['dead', 'failed']);
const CANCELLABLE = new Set(['queued', 'running']);

/** The queue's jobs, filtered by status, kind and user; several retried or cancelled at once. */
export function Jobs({ where }: { where: Location }) {
  const filter = {
    status: where.params.get('status') ?? undefined,
    kind: where.params.get('kind') ?? undefined,
    userId: where.params.get('userId') ?? undefined,
  };
  const { resource, rows, pager } = usePaged<Job>('/api/admin/jobs', filter, 3000);
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
      <form
        class="filters"
        onSubmit={(event) => {
          event.preventDefault();
          const form = new FormData(event.currentTarget);
          go(href('jobs', { status: String(form.get('status') ?? ''), kind: String(form.get('kind') ?? '').trim(), userId: String(form.get('userId') ?? '').trim() }));
        }}
      >
        <label>
          Status
          <select name="status" value={filter.status ?? ''} onChange={(event) => go(href('jobs', { ...filter, status: event.currentTarget.value }))}>
            <option value="">any</option>
            {STATUSES.map((status) => (
              <option key={status} value={status}>{status}</option>
            ))}
          </select>
        </label>
        <label>
          Kind
          <input name="kind" placeholder="sync.gmail" value={filter.kind ?? ''} />
        </label>
        <label>
          User
          <input name="userId" placeholder="user id" value={filter.userId ?? ''} />
        </label>
        <button type="submit">Filter</button>
        {(filter.status || filter.kind || filter.userId) && <a href={href('jobs')}>clear</a>}
      </form>
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
        <Loading resource={resource} />
        {resource.data && rows.length === 0 && <Empty>No job matches.</Empty>}
        {rows.length > 0 && (
          <table class="jobs">
            <thead>
              <tr>
                <th><input type="checkbox" aria-label="select all"
                  checked={rows.length > 0 && rows.every((job) => selected.has(job.id))}
                  onChange={(event) => setSelected(event.currentTarget.checked ? new Set(rows.map((job) => job.id)) : new Set())} /></th>
                <th>id</th><th>kind</th><th>user</th><th>status</th><th class="num">attempts</th><th>updated</th><th>last error</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((job) => (
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
              ))}
            </tbody>
          </table>
        )}
        {pager}
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
