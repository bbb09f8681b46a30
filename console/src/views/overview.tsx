import type { ComponentChildren } from 'preact';
import { href } from '../router';
import type { Summary } from '../types';
import { Ago, Badge, duration, Empty, Loading, Section, useResource } from '../ui';

/** Health, the queue at a glance, dead jobs and failing syncs: what to look at first. */
export function Overview() {
  const summary = useResource<Summary>('/api/admin/summary', 5000);
  const s = summary.data;
  return (
    <div class="view" data-view="overview">
      <Loading resource={summary} />
      {s && (
        <>
          <div class="cards">
            <Card label="Health" value={<Badge value={s.health.status} />} detail={failingChecks(s)} />
            <Card label="Queue depth" value={s.queue.queued + s.queue.running} detail={`${s.queue.runnable} runnable, ${s.queue.running} running`} />
            <Card label="Oldest runnable" value={duration(s.queue.oldestRunnableAgeSeconds)} detail="waiting to be claimed" />
            <Card
              label="Dead jobs"
              value={<a href={href('jobs', { status: 'dead' })}>{s.queue.dead}</a>}
              detail={`${s.queue.lastHour.dead} in the last hour`}
              alert={s.queue.dead > 0}
            />
            <Card label="Failing syncs" value={<a href={href('connections')}>{s.syncs.failing}</a>} detail="streams whose last run failed" alert={s.syncs.failing > 0} />
            <Card
              label="Last hour"
              value={s.queue.lastHour.succeeded}
              detail={`succeeded; ${s.queue.lastHour.failed} failed, ${s.queue.lastHour.cancelled} cancelled`}
            />
            <Card label="Connections" value={s.connections.active} detail={`active; ${s.connections.paused} paused, ${s.connections.error} in error`} />
          </div>
          <div class="columns">
            <Section title="Queue by kind">
              {s.queue.depth.length === 0 ? (
                <Empty>The queue is empty.</Empty>
              ) : (
                <table>
                  <thead>
                    <tr><th>kind</th><th>status</th><th class="num">jobs</th></tr>
                  </thead>
                  <tbody>
                    {s.queue.depth.map((row) => (
                      <tr key={`${row.kind}/${row.status}`}>
                        <td><a href={href('jobs', { kind: row.kind, status: row.status })}>{row.kind}</a></td>
                        <td><Badge value={row.status} /></td>
                        <td class="num">{row.jobs}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </Section>
            <Section title="Failing syncs">
              {s.syncs.failingStreams.length === 0 ? (
                <Empty>No stream is failing.</Empty>
              ) : (
                <table>
                  <thead>
                    <tr><th>connection</th><th>stream</th><th>error</th><th>since</th></tr>
                  </thead>
                  <tbody>
                    {s.syncs.failingStreams.map((row) => (
                      <tr key={`${row.connectionId}/${row.stream}`}>
                        <td>
                          {row.userId ? <a href={href('connections', { userId: row.userId })}>{row.provider} #{row.connectionId}</a> : <span>#{row.connectionId} (gone)</span>}
                          {row.userId && <div class="muted small">{row.userId}</div>}
                        </td>
                        <td>{row.stream}</td>
                        <td class="wrap">{row.lastError}</td>
                        <td><Ago at={row.lastErrorAt} /></td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </Section>
          </div>
          {s.queue.runningByUser.length > 0 && (
            <Section title="Running per user">
              <table>
                <thead>
                  <tr><th>user</th><th class="num">running</th></tr>
                </thead>
                <tbody>
                  {s.queue.runningByUser.map((row) => (
                    <tr key={row.userId}>
                      <td><a href={href('jobs', { userId: row.userId, status: 'running' })}>{row.userId}</a></td>
                      <td class="num">{row.running}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </Section>
          )}
        </>
      )}
    </div>
  );
}

function failingChecks(summary: Summary): string {
  const failing = summary.health.checks.filter((check) => !check.ok);
  if (failing.length === 0) return `${summary.health.checks.length} checks pass`;
  return failing.map((check) => `${check.name}: ${check.detail ?? 'failing'}`).join('; ');
}

function Card(props: { label: string; value: ComponentChildren; detail?: string; alert?: boolean }) {
  return (
    <div class={props.alert ? 'card alert' : 'card'}>
      <div class="card-label">{props.label}</div>
      <div class="card-value">{props.value}</div>
      {props.detail && <div class="card-detail muted">{props.detail}</div>}
    </div>
  );
}
