import { go, href, type Location } from '../router';
import type { WebhookDelivery } from '../types';
import { Ago, Badge, Empty, Loading, Section, usePaged } from '../ui';

const STATUSES = ['processed', 'rejected', 'ignored'];

/** Nango's recent deliveries: what each said, and why one was rejected or ignored. */
export function Webhooks({ where }: { where: Location }) {
  const filter = { status: where.params.get('status') ?? undefined, type: where.params.get('type') ?? undefined };
  const { resource, rows, pager } = usePaged<WebhookDelivery>('/api/admin/webhooks', filter, 5000);
  return (
    <div class="view" data-view="webhooks">
      <div class="filters">
        <label>
          Status
          <select value={filter.status ?? ''} onChange={(event) => go(href('webhooks', { ...filter, status: event.currentTarget.value }))}>
            <option value="">any</option>
            {STATUSES.map((status) => (
              <option key={status} value={status}>{status}</option>
            ))}
          </select>
        </label>
        <label>
          Type
          <select value={filter.type ?? ''} onChange={(event) => go(href('webhooks', { ...filter, type: event.currentTarget.value }))}>
            <option value="">any</option>
            {['auth', 'sync', 'forward'].map((type) => (
              <option key={type} value={type}>{type}</option>
            ))}
          </select>
        </label>
      </div>
      <Section title="Webhook deliveries">
        <Loading resource={resource} />
        {resource.data && rows.length === 0 && <Empty>No delivery matches.</Empty>}
        {rows.length > 0 && (
          <table>
            <thead>
              <tr><th>id</th><th>received</th><th>type</th><th>status</th><th>connection</th><th>what</th><th>reason</th></tr>
            </thead>
            <tbody>
              {rows.map((delivery) => (
                <tr key={delivery.id} data-status={delivery.status}>
                  <td>{delivery.id}</td>
                  <td><Ago at={delivery.receivedAt} /></td>
                  <td>{delivery.type}</td>
                  <td><Badge value={delivery.status} /></td>
                  <td>
                    {delivery.providerConfigKey ?? <span class="muted">—</span>}
                    {delivery.nangoConnectionId && <div class="muted small">{delivery.nangoConnectionId}</div>}
                  </td>
                  <td>{describe(delivery)}</td>
                  <td class="wrap">{delivery.error ?? <span class="muted">—</span>}</td>
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

function describe(delivery: WebhookDelivery): string {
  const summary = delivery.summary;
  if (!summary) return '—';
  const parts = [summary.operation, summary.syncName, summary.model, summary.success === undefined ? undefined : summary.success ? 'success' : 'failure'];
  return parts.filter(Boolean).join(' · ') || '—';
}
