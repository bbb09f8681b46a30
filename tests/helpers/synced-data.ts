import type pg from 'pg';

/**
 * Rows as the sync processors leave them, inserted directly: the read API's tests need data, not a
 * sync. Every builder returns the inserted row's id; timestamps are ISO strings (microseconds allowed).
 */
export class SyncedData {
  private seq = 0;
  constructor(private readonly pool: pg.Pool) {}

  private next(prefix: string) {
    this.seq += 1;
    return `${prefix}-${this.seq}`;
  }

  private async insert(table: string, values: Record<string, unknown>): Promise<number> {
    const columns = Object.keys(values);
    const { rows } = await this.pool.query(
      `INSERT INTO ${table} (${columns.map((column) => `"${column}"`).join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING id`,
      Object.values(values),
    );
    return Number(rows[0].id);
  }

  connection(input: {
    userId: string;
    provider: 'gmail' | 'calendar' | 'salesforce';
    status?: 'active' | 'paused' | 'error' | 'deleted';
    nangoConnectionId?: string;
    lastSyncedAt?: string | null;
    createdAt?: string;
  }): Promise<number> {
    const configKey = { gmail: 'google-mail', calendar: 'google-calendar', salesforce: 'salesforce' }[input.provider];
    return this.insert('connections', {
      user_id: input.userId,
      provider: input.provider,
      nango_connection_id: input.nangoConnectionId ?? `${input.provider}-${input.userId}`,
      provider_config_key: configKey,
      status: input.status ?? 'active',
      last_synced_at: input.lastSyncedAt ?? null,
      created_at: input.createdAt ?? new Date().toISOString(),
    });
  }

  thread(input: {
    connectionId: number;
    userId: string;
    subject?: string;
    category?: string;
    senders?: string[];
    lastMessageAt: string;
    deleted?: boolean;
  }): Promise<number> {
    return this.insert('email_threads', {
      connection_id: input.connectionId,
      user_id: input.userId,
      provider_thread_id: this.next('thread'),
      subject: input.subject ?? '',
      snippet: `snippet of ${input.subject ?? ''}`,
      category: input.category ?? 'other',
      senders: input.senders ?? [],
      message_count: 1,
      last_message_at: input.lastMessageAt,
      deleted_at: input.deleted ? new Date().toISOString() : null,
    });
  }

  message(input: {
    threadId: number;
    connectionId: number;
    userId: string;
    fromAddress: string;
    internalDate: string;
    subject?: string;
    bodyText?: string;
    deleted?: boolean;
  }): Promise<number> {
    return this.insert('email_messages', {
      thread_id: input.threadId,
      connection_id: input.connectionId,
      user_id: input.userId,
      provider_message_id: this.next('message'),
      from_address: input.fromAddress,
      from_name: input.fromAddress.split('@')[0],
      to: JSON.stringify([{ address: 'me@example.com' }]),
      subject: input.subject ?? '',
      internal_date: input.internalDate,
      sent_at: input.internalDate,
      body_text: input.bodyText ?? '',
      clean_body: input.bodyText ?? '',
      deleted_at: input.deleted ? new Date().toISOString() : null,
    });
  }

  /** A timed event (startAt/endAt) or an all-day one (startDate/endDate, end exclusive, as Google's). */
  event(input: {
    connectionId: number;
    userId: string;
    summary: string;
    description?: string;
    location?: string;
    startAt?: string;
    endAt?: string;
    startDate?: string;
    endDate?: string;
    status?: string;
    deleted?: boolean;
  }): Promise<number> {
    const allDay = input.startDate !== undefined;
    return this.insert('calendar_events', {
      connection_id: input.connectionId,
      user_id: input.userId,
      provider_event_id: this.next('event'),
      summary: input.summary,
      description: input.description ?? null,
      location: input.location ?? null,
      status: input.status ?? 'confirmed',
      all_day: allDay,
      start_at: allDay ? `${input.startDate}T00:00:00Z` : input.startAt,
      end_at: allDay ? `${input.endDate}T00:00:00Z` : input.endAt,
      start_date: input.startDate ?? null,
      end_date: input.endDate ?? null,
      deleted_at: input.deleted ? new Date().toISOString() : null,
    });
  }

  crm(input: {
    connectionId: number;
    userId: string;
    object: 'Lead' | 'Contact' | 'Account' | 'Opportunity';
    name: string;
    systemModstamp: string | null;
    email?: string;
    company?: string;
    status?: string;
    accountProviderId?: string;
    industry?: string;
    stageName?: string;
    amount?: string;
    deleted?: boolean;
  }): Promise<number> {
    return this.insert('crm_records', {
      connection_id: input.connectionId,
      user_id: input.userId,
      object: input.object,
      provider_id: this.next('00Q').replace('-', '0').padEnd(18, '0'),
      name: input.name,
      email: input.email ?? null,
      company: input.company ?? null,
      status: input.status ?? null,
      account_provider_id: input.accountProviderId ?? null,
      industry: input.industry ?? null,
      stage_name: input.stageName ?? null,
      amount: input.amount ?? null,
      fields: JSON.stringify({ Name: input.name }),
      system_modstamp: input.systemModstamp,
      deleted_at: input.deleted ? new Date().toISOString() : null,
    });
  }

  interaction(input: {
    connectionId: number;
    userId: string;
    source: 'email' | 'calendar' | 'crm';
    occurredAt: string;
    title: string;
    deleted?: boolean;
  }): Promise<number> {
    return this.insert('interactions', {
      connection_id: input.connectionId,
      user_id: input.userId,
      source: input.source,
      source_id: this.next(input.source),
      kind: { email: 'email.received', calendar: 'calendar.event', crm: 'crm.record' }[input.source],
      occurred_at: input.occurredAt,
      title: input.title,
      deleted_at: input.deleted ? new Date().toISOString() : null,
    });
  }
}
