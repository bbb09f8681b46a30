import type { Location } from '../router';
import type { WebhookDelivery } from '../types';
import { Ago, Badge, Filters, filterOf, PagedTable, Section, usePaged, type FilterField } from '../ui';

const FILTERS: FilterField[] = [
  { name: 'status', label: 'Status', options: ['processed', 'rejected', 'ignored'], hint: 'any' },
  { name: 'type', label: 'Type', options: ['auth', 'sync', 'forward'], hint: 'any' },
];

/** Nango's recent deliveries: what each said, and why one was rejected or ignored. */
export function Webhooks({ where }: { where: Location }) {
  const filter = filterOf(where, FILTERS);
  const paged = usePaged<WebhookDelivery>('/api/admin/webhooks', filter, 5000);
  return (
    <div class="view" data-view="webhooks">
      <Filters view="webhooks" filter={filter} fields={FILTERS} />
      <Section title="Webhook deliveries">
        <PagedTable
          paged={paged}
          empty="No delivery matches."
          head={<><th>id</th><th>received</th><th>type</th><th>status</th><th>connection</th><th>what</th><th>reason</th></>}
          row={(delivery) => (
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
          )}
        />
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
