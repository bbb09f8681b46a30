import { api } from '../api';
import { href, type Location } from '../router';
import type { Connection, StreamState } from '../types';
import { Action, Ago, Badge, duration, Empty, Filters, filterOf, Loading, Section, usePaged, type FilterField } from '../ui';
import { SyncBar } from './jobs';

const FILTERS: FilterField[] = [
  { name: 'status', label: 'Status', options: ['active', 'paused', 'error', 'deleted'], hint: 'active, paused, error' },
  { name: 'provider', label: 'Provider', hint: 'gmail' },
  { name: 'userId', label: 'User', hint: 'user id' },
];

/** Connections and their sync streams: how fresh each is, what failed, what runs now; pause, resume, sync now. */
export function Connections({ where }: { where: Location }) {
  const filter = filterOf(where, FILTERS);
  // Polled often: a running sync's bar moves with each page it stores.
  const { resource, rows, pager } = usePaged<Connection>('/api/admin/connections', filter, 1500);
  return (
    <div class="view" data-view="connections">
      <Filters view="connections" filter={filter} fields={FILTERS} />
      <Loading resource={resource} />
      {resource.data && rows.length === 0 && <Empty>No connection matches.</Empty>}
      {rows.map((connection) => (
        <ConnectionPanel key={connection.id} connection={connection} reload={resource.reload} />
      ))}
      {rows.length > 0 && pager}
    </div>
  );
}

function ConnectionPanel({ connection, reload }: { connection: Connection; reload: () => void }) {
  const path = `/api/admin/connections/${connection.id}`;
  return (
    <div data-connection={connection.id} data-status={connection.status}>
      <Section
        title={`${connection.provider} #${connection.id}`}
        actions={
          <>
            <Badge value={connection.status} />
            {connection.status === 'paused' ? (
              <Action label="Resume" kind="primary" run={() => api(`${path}/resume`, { method: 'POST' })} done={reload} />
            ) : (
              <Action label="Pause" disabled={connection.status === 'deleted'} run={() => api(`${path}/pause`, { method: 'POST' })} done={reload} />
            )}
            <Action label="Sync now" disabled={connection.status !== 'active'} title="an incremental sync of every stream"
              run={() => api(`${path}/sync`, { method: 'POST' })} done={reload} />
          </>
        }
      >
        <p class="muted small">
          user <a href={href('connections', { userId: connection.userId })}>{connection.userId}</a> · Nango connection {connection.connectionId} · last synced{' '}
          <Ago at={connection.lastSyncedAt} />
          {connection.lastError && <span class="error-inline"> · {connection.lastError}</span>}
        </p>
        <table class="streams">
          <thead>
            <tr><th>stream</th><th>cursor age</th><th>last success</th><th>now</th><th>last error</th></tr>
          </thead>
          <tbody>
            {connection.streams.map((stream) => (
              <StreamRow key={stream.stream} stream={stream} />
            ))}
          </tbody>
        </table>
      </Section>
    </div>
  );
}

function StreamRow({ stream }: { stream: StreamState }) {
  const job = stream.job;
  return (
    <tr data-stream={stream.stream}>
      <td>{stream.stream}</td>
      <td>{duration(stream.cursorAgeSeconds)}</td>
      <td><Ago at={stream.lastSuccessAt} /></td>
      <td class="now">
        {!job ? (
          <span class="muted">idle</span>
        ) : job.status === 'running' ? (
          <a href={href('jobs', job.id)} class="bar-link">
            <SyncBar progress={job.progress ?? { phase: 'starting', records: 0, pages: 0 }} />
          </a>
        ) : (
          <a href={href('jobs', job.id)}><Badge value={job.status} /> {job.mode ?? 'sync'} job {job.id}</a>
        )}
      </td>
      <td class="wrap">
        {stream.lastError ? (
          <>
            {stream.lastError} <span class="muted small">(<Ago at={stream.lastErrorAt} />)</span>
          </>
        ) : (
          <span class="muted">—</span>
        )}
      </td>
    </tr>
  );
}
