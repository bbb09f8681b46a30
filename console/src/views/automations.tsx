import { api } from '../api';
import { go, href, type Location } from '../router';
import type { Run, Step, Unit } from '../types';
import { Action, Ago, Badge, duration, Empty, ErrorLine, Json, Loading, PagedTable, Section, usePaged, useResource } from '../ui';

const RUN_STATUSES = ['queued', 'running', 'completed', 'failed', 'skipped'];

/** Units with their status (paused or resumed from here), and the runs they made. */
export function Automations({ where }: { where: Location }) {
  const unitFilter = { userId: where.params.get('userId') ?? undefined };
  const runFilter = {
    ...unitFilter,
    unitId: where.params.get('unitId') ?? undefined,
    status: where.params.get('status') ?? undefined,
  };
  const units = usePaged<Unit>('/api/admin/units', unitFilter, 10_000);
  const runs = usePaged<Run>('/api/admin/runs', runFilter, 3000);
  return (
    <div class="view" data-view="automations">
      {unitFilter.userId && (
        <p class="notice">
          User {unitFilter.userId} only · <a href={href('automations')}>everyone</a>
        </p>
      )}
      <Section title="Units">
        <PagedTable
          paged={units}
          empty="No unit yet."
          head={<><th>id</th><th>name</th><th>user</th><th>status</th><th /></>}
          row={(unit) => (
            <tr key={unit.id} data-unit={unit.id} data-status={unit.status}>
              <td>{unit.id}</td>
              <td>
                <a href={href('automations', { ...runFilter, unitId: String(unit.id) })} title="its runs">{unit.name}</a>
                <div class="muted small clip" title={unit.prompt}>{unit.prompt}</div>
              </td>
              <td><a href={href('automations', { userId: unit.userId })}>{unit.userId}</a></td>
              <td>
                <Badge value={unit.status} />
                {unit.statusReason && <div class="muted small">{unit.statusReason}</div>}
              </td>
              <td class="right">
                {unit.status === 'active' ? (
                  <Action label="Pause" run={() => setStatus(unit, 'paused')} done={units.resource.reload} />
                ) : (
                  <Action label="Activate" kind="primary" run={() => setStatus(unit, 'active')} done={units.resource.reload} />
                )}
              </td>
            </tr>
          )}
        />
      </Section>
      <Section
        title={runFilter.unitId ? `Runs of unit ${runFilter.unitId}` : 'Runs'}
        actions={
          <>
            <select aria-label="run status" value={runFilter.status ?? ''} onChange={(event) => go(href('automations', { ...runFilter, status: event.currentTarget.value }))}>
              <option value="">any status</option>
              {RUN_STATUSES.map((status) => (
                <option key={status} value={status}>{status}</option>
              ))}
            </select>
            {runFilter.unitId && <a href={href('automations', { ...runFilter, unitId: undefined })}>all units</a>}
          </>
        }
      >
        <PagedTable
          paged={runs}
          empty="No run matches."
          head={<><th>run</th><th>unit</th><th>user</th><th>event</th><th>status</th><th>started</th><th>took</th><th>error</th></>}
          row={(run) => (
            <tr key={run.id} data-run={run.id} data-status={run.status}>
              <td><a href={href('runs', run.id)}>run {run.id}</a></td>
              <td>{run.unitId}</td>
              <td>{run.userId}</td>
              <td>{run.eventType ?? '—'}</td>
              <td><Badge value={run.status} /></td>
              <td><Ago at={run.startedAt ?? run.createdAt} /></td>
              <td>{took(run.startedAt, run.finishedAt)}</td>
              <td class="wrap clip">{run.error}</td>
            </tr>
          )}
        />
      </Section>
    </div>
  );
}

function setStatus(unit: Unit, status: 'active' | 'paused') {
  return api(`/api/admin/units/${unit.id}/status`, { method: 'PATCH', body: { status } });
}

function took(startedAt: string | null, finishedAt: string | null): string {
  if (!startedAt || !finishedAt) return '—';
  return duration((new Date(finishedAt).getTime() - new Date(startedAt).getTime()) / 1000);
}

/** A run and its steps as a timeline: each step's tool, status, timing, input, output and error. */
export function RunDetail({ id }: { id: string }) {
  const resource = useResource<{ run: Run; steps: Step[] }>(`/api/admin/runs/${encodeURIComponent(id)}`, 2000);
  const run = resource.data?.run;
  const steps = resource.data?.steps ?? [];
  return (
    <div class="view" data-view="run">
      <p><a href={href('automations')}>← Automations</a></p>
      <Loading resource={resource} />
      {run && (
        <Section title={`Run ${run.id} of unit ${run.unitId}${run.unitName ? ` (${run.unitName})` : ''}`} actions={<Badge value={run.status} />}>
          <dl class="facts">
            <dt>user</dt><dd>{run.userId}</dd>
            <dt>event</dt><dd>{run.eventType ?? '—'}{run.eventId !== null && <span class="muted"> #{run.eventId}</span>}</dd>
            <dt>started</dt><dd><Ago at={run.startedAt} /></dd>
            <dt>took</dt><dd>{took(run.startedAt, run.finishedAt)}</dd>
          </dl>
          {run.error && <ErrorLine error={run.error} />}
          <details>
            <summary>Facts the unit saw</summary>
            <Json value={run.facts} />
          </details>
          <h3>Steps</h3>
          {steps.length === 0 && <Empty>This run has no steps.</Empty>}
          <ol class="timeline">
            {steps.map((step) => (
              <li key={step.index} class={`step step-${step.status}`} data-step={step.index}>
                <div class="step-head">
                  <span class="step-index">{step.index + 1}</span>
                  <strong class="step-tool">{step.tool}</strong>
                  <Badge value={step.status} />
                  <span class="muted small">
                    {step.startedAt ? <Ago at={step.startedAt} /> : 'not started'}
                    {step.durationMs !== null && ` · ${duration(step.durationMs / 1000)}`}
                    {step.actionId !== null && ` · action ${step.actionId}`}
                  </span>
                </div>
                <div class="step-body">
                  <div>
                    <h4>Input</h4>
                    <Json value={step.input} />
                  </div>
                  <div>
                    <h4>Output</h4>
                    <Json value={step.output} />
                  </div>
                </div>
                {step.error !== null && step.error !== undefined && (
                  <div class="step-error">
                    <h4>Error</h4>
                    {typeof step.error === 'string' ? <ErrorLine error={step.error} /> : <Json value={step.error} />}
                  </div>
                )}
              </li>
            ))}
          </ol>
        </Section>
      )}
    </div>
  );
}
