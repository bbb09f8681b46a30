import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { canonicalJson } from '../../actions/idempotency';
import type { Connection, CrmObject } from '../../../db/schema';
import { emitEvents, jsonbText, upsertInteractions, type EventInput, type InteractionInput, type Tx } from '../records';
import type { CrmRow } from './objects';

export interface PageWrite {
  connection: Pick<Connection, 'id' | 'userId'>;
  object: CrmObject;
  rows: CrmRow[];
  /** At the end of a full listing: live rows not written since this database time are gone from Salesforce. */
  sweepSince?: string;
  /**
   * Which walk listed the page (default 'incremental'):
   * - 'listing' (a backfill or full resync): records listed again unchanged are written anyway (their
   *   updated_at is what the sweep reads);
   * - 'incremental' (whose first query re-reads a window behind the cursor) and 'range': a record whose
   *   stored SystemModstamp and fields are the same is not written at all.
   * Only an incremental walk reports the same SystemModstamp with other fields as a change (a second
   * change within that second); listings and date ranges are repairs, written quietly.
   */
  walk?: 'incremental' | 'listing' | 'range';
}

export interface PageResult {
  created: number;
  updated: number;
  deleted: number;
  /** Marked deleted by the sweep at the end of a full listing. */
  purged: number;
}

interface Change {
  row: CrmRow;
  kind: 'created' | 'updated' | 'deleted';
  restored?: boolean;
  /** Changed again within the second of the stored SystemModstamp: the event's version also names the fields. */
  sameSecond?: boolean;
}

/**
 * Stores one queried page in the caller's transaction (which also saves the cursor that covers it):
 * live records upserted, deleted ones marked, and for each actual change an `events` row
 * (crm.<object>.created|updated|deleted, version = SystemModstamp) and an `interactions` row. A record
 * listed again unchanged emits nothing; it is written only by a full listing (its updated_at is what the
 * sweep reads), so the window an incremental sync re-reads behind its cursor costs one indexed lookup per
 * record and no write.
 */
export async function storePage(tx: Tx, write: PageWrite): Promise<PageResult> {
  const result: PageResult = { created: 0, updated: 0, deleted: 0, purged: 0 };
  const changes: Change[] = [];

  // Keyset pages never list an id twice, but ON CONFLICT cannot touch a row twice in one statement:
  // should it happen, the later row (the later SystemModstamp) wins.
  const latest = [...new Map(write.rows.map((row) => [row.providerId, row])).values()];
  const live = latest.filter((row) => !row.deleted);
  const gone = latest.filter((row) => row.deleted);

  if (live.length > 0) {
    for (const change of await upsertLive(tx, write, live)) {
      if (change.inserted) {
        result.created += 1;
        changes.push({ row: change.row, kind: 'created' });
      } else if (change.changed) {
        result.updated += 1;
        changes.push({ row: change.row, kind: 'updated', restored: change.restored, sameSecond: change.sameSecond });
      }
    }
  }
  if (gone.length > 0) {
    for (const row of await markDeleted(tx, write, gone)) {
      result.deleted += 1;
      changes.push({ row, kind: 'deleted' });
    }
  }

  const events: EventInput[] = changes.map((change) => toEvent(write, change));
  const interactions: InteractionInput[] = changes.map((change) => toInteraction(write, change.row, change.kind === 'deleted'));

  if (write.sweepSince !== undefined) {
    const purged = await sweep(tx, write, write.sweepSince);
    result.purged = purged.length;
    for (const row of purged) {
      events.push({
        userId: write.connection.userId,
        connectionId: write.connection.id,
        type: `crm.${write.object.toLowerCase()}.deleted`,
        providerId: row.providerId,
        version: `purged:${write.sweepSince}`,
        payload: { object: write.object, id: row.providerId, name: row.name, systemModstamp: row.systemModstamp, reason: 'missing_from_full_sync' },
      });
      interactions.push(toInteraction(write, row, true));
    }
  }

  await emitEvents(tx, events);
  await upsertInteractions(tx, interactions);
  return result;
}

/**
 * The upsert, and per row whether it was inserted (xmax = 0 on the returned version: no earlier
 * version was replaced) or changed: another SystemModstamp, restored from a deletion, or the same
 * SystemModstamp with other fields. Salesforce bumps SystemModstamp on every change, but only to the
 * second: two changes within one second share it, and the window re-read behind the cursor brings the
 * second one, which only its fields tell apart.
 *
 * Outside a full listing, rows whose stored SystemModstamp and fields are the same are filtered out of
 * the INSERT (NOT EXISTS on the same unique index): the re-read window writes nothing.
 *
 * The prior state is read first, by `provider_id = ANY(...)` on the (connection_id, object,
 * provider_id) index: an index lookup per id whatever the planner believes about the table. (Joined
 * to the page's recordset instead, a freshly filled, not yet analyzed crm_records made Postgres pick a
 * nested loop over every stored row of the object for every row of the page.) The stream has one
 * writer at a time, and a writer whose lease lapsed is turned away by the cursor's compare-and-set,
 * which rolls this transaction back, so the two statements cannot disagree.
 */
async function upsertLive(tx: Tx, write: PageWrite, rows: CrmRow[]) {
  const ids = rows.map((row) => row.providerId);
  const priorResult = await tx.execute(sql`
    SELECT provider_id, system_modstamp, deleted_at, fields
    FROM crm_records
    WHERE connection_id = ${write.connection.id}
      AND object = ${write.object}
      AND provider_id = ANY(${sql.param(ids)}::text[])
  `);
  const prior = new Map(
    (
      priorResult.rows as { provider_id: string; system_modstamp: Date | string | null; deleted_at: Date | string | null; fields: unknown }[]
    ).map((r) => [r.provider_id, r]),
  );
  const payload = rows.map((r) => ({
    provider_id: r.providerId,
    name: r.name,
    email: r.email,
    phone: r.phone,
    company: r.company,
    status: r.status,
    account_provider_id: r.accountProviderId,
    industry: r.industry,
    website: r.website,
    stage_name: r.stageName,
    amount: r.amount,
    close_date: r.closeDate,
    fields: r.fields,
    system_modstamp: r.systemModstamp,
  }));
  const result = await tx.execute(sql`
    INSERT INTO crm_records AS r (
      connection_id, user_id, object, provider_id, name, email, phone, company, status, account_provider_id,
      industry, website, stage_name, amount, close_date, fields, system_modstamp
    )
    SELECT ${write.connection.id}, ${write.connection.userId}, ${write.object}, i.provider_id, i.name, i.email, i.phone, i.company,
           i.status, i.account_provider_id, i.industry, i.website, i.stage_name, i.amount, i.close_date, i.fields, i.system_modstamp
    FROM jsonb_to_recordset(${jsonbText(payload)}::jsonb) AS i(
      provider_id text, name text, email text, phone text, company text, status text, account_provider_id text,
      industry text, website text, stage_name text, amount numeric, close_date date, fields jsonb,
      system_modstamp timestamptz)
    WHERE ${write.walk === 'listing'}
       OR NOT EXISTS (
         SELECT 1 FROM crm_records c
         WHERE c.connection_id = ${write.connection.id}
           AND c.object = ${write.object}
           AND c.provider_id = i.provider_id
           AND c.deleted_at IS NULL
           AND c.system_modstamp = i.system_modstamp
           AND c.fields = i.fields)
    ON CONFLICT (connection_id, object, provider_id) DO UPDATE SET
      name = excluded.name,
      email = excluded.email,
      phone = excluded.phone,
      company = excluded.company,
      status = excluded.status,
      account_provider_id = excluded.account_provider_id,
      industry = excluded.industry,
      website = excluded.website,
      stage_name = excluded.stage_name,
      amount = excluded.amount,
      close_date = excluded.close_date,
      fields = excluded.fields,
      system_modstamp = excluded.system_modstamp,
      deleted_at = NULL,
      updated_at = now()
    RETURNING r.provider_id, (r.xmax = 0) AS inserted
  `);
  const byId = new Map(rows.map((row) => [row.providerId, row]));
  const incremental = (write.walk ?? 'incremental') === 'incremental';
  return (result.rows as { provider_id: string; inserted: boolean }[]).map((r) => {
    const row = byId.get(r.provider_id)!;
    const before = prior.get(r.provider_id);
    const stamp = before?.system_modstamp == null ? null : new Date(before.system_modstamp).getTime();
    const sameStamp = stamp === Date.parse(row.systemModstamp);
    const sameFields = !!before && canonicalJson(before.fields) === canonicalJson(JSON.parse(jsonbText(row.fields)));
    return {
      row,
      inserted: r.inserted,
      changed: !before || before.deleted_at !== null || !sameStamp || (!sameFields && incremental),
      restored: !!before && before.deleted_at !== null,
      sameSecond: !!before && before.deleted_at === null && sameStamp && !sameFields,
    };
  });
}

/**
 * Marks the rows we hold of records Salesforce lists as deleted (IsDeleted, from queryAll). deleted_at
 * is when Salesforce deleted them (the deletion bumped SystemModstamp). Rows already marked, and
 * records we never stored (created and deleted between two syncs, or deleted before the backfill),
 * change nothing and emit nothing. The last live values stay in the typed columns and `fields`.
 */
async function markDeleted(tx: Tx, write: PageWrite, rows: CrmRow[]): Promise<CrmRow[]> {
  const payload = rows.map((r) => ({ provider_id: r.providerId, system_modstamp: r.systemModstamp }));
  const result = await tx.execute(sql`
    UPDATE crm_records r
    SET deleted_at = g.system_modstamp, system_modstamp = g.system_modstamp, updated_at = now()
    FROM jsonb_to_recordset(${JSON.stringify(payload)}::jsonb) AS g(provider_id text, system_modstamp timestamptz)
    WHERE r.connection_id = ${write.connection.id}
      AND r.object = ${write.object}
      -- Index lookups by id (see upsertLive), joined to the recordset for each row's deletion time.
      AND r.provider_id = ANY(${sql.param(rows.map((row) => row.providerId))}::text[])
      AND r.provider_id = g.provider_id
      AND r.deleted_at IS NULL
    RETURNING r.provider_id
  `);
  // Salesforce keeps a deleted record's values in the recycle bin, so the queried row is its last state.
  const byId = new Map(rows.map((row) => [row.providerId, row]));
  return (result.rows as { provider_id: string }[]).map((r) => byId.get(r.provider_id)!);
}

/**
 * The end of a full listing: every record Salesforce still has (live or in the recycle bin) was
 * written since `since`, so a live row older than that is a record Salesforce no longer has at all
 * (hard-deleted, or purged from the recycle bin while no sync was listening).
 */
async function sweep(tx: Tx, write: PageWrite, since: string): Promise<CrmRow[]> {
  const result = await tx.execute(sql`
    UPDATE crm_records
    SET deleted_at = now(), updated_at = now()
    WHERE connection_id = ${write.connection.id}
      AND object = ${write.object}
      AND deleted_at IS NULL
      AND updated_at < ${since}::timestamptz
    RETURNING provider_id, name, email, phone, company, status, account_provider_id, industry, website, stage_name,
              amount::text AS amount, close_date::text AS close_date, fields,
              to_json(coalesce(system_modstamp, now())) #>> '{}' AS system_modstamp
  `);
  return (result.rows as Record<string, string | null>[]).map((r) => ({
    providerId: r.provider_id!,
    deleted: true,
    systemModstamp: new Date(r.system_modstamp!).toISOString(),
    name: r.name ?? null,
    email: r.email ?? null,
    phone: r.phone ?? null,
    company: r.company ?? null,
    status: r.status ?? null,
    accountProviderId: r.account_provider_id ?? null,
    industry: r.industry ?? null,
    website: r.website ?? null,
    stageName: r.stage_name ?? null,
    amount: r.amount === null || r.amount === undefined ? null : Number(r.amount),
    closeDate: r.close_date ?? null,
    fields: (r.fields as unknown as Record<string, unknown>) ?? {},
  }));
}

function toEvent(write: PageWrite, change: Change): EventInput {
  const { row } = change;
  const payload: Record<string, unknown> =
    change.kind === 'deleted'
      ? { object: write.object, id: row.providerId, name: row.name, systemModstamp: row.systemModstamp, reason: 'deleted' }
      : {
          object: write.object,
          id: row.providerId,
          name: row.name,
          systemModstamp: row.systemModstamp,
          fields: row.fields,
          ...(change.restored ? { restored: true } : {}),
        };
  return {
    userId: write.connection.userId,
    connectionId: write.connection.id,
    type: `crm.${write.object.toLowerCase()}.${change.kind}`,
    providerId: row.providerId,
    version: change.sameSecond ? `${row.systemModstamp}#${fieldsDigest(row.fields)}` : row.systemModstamp,
    payload,
  };
}

function fieldsDigest(fields: Record<string, unknown>): string {
  return createHash('sha256').update(canonicalJson(fields)).digest('hex').slice(0, 16);
}

/**
 * The record on the unified timeline: occurred_at is SystemModstamp (when it last changed in
 * Salesforce, the same instant for every object; an opportunity's CloseDate is often in the future
 * and says nothing about activity), the title its Name.
 */
function toInteraction(write: PageWrite, row: CrmRow, deleted: boolean): InteractionInput {
  const summary =
    write.object === 'Lead'
      ? [row.company, row.status].filter(Boolean).join(' · ')
      : write.object === 'Opportunity'
        ? [row.stageName, row.amount === null ? null : String(row.amount), row.closeDate].filter(Boolean).join(' · ')
        : write.object === 'Account'
          ? (row.industry ?? '')
          : (row.email ?? '');
  return {
    userId: write.connection.userId,
    connectionId: write.connection.id,
    source: 'crm',
    sourceId: `${write.object}:${row.providerId}`,
    kind: write.object.toLowerCase(),
    occurredAt: new Date(row.systemModstamp),
    title: row.name ?? '',
    summary: summary || null,
    participants: row.email ? [{ email: row.email, ...(row.name ? { name: row.name } : {}) }] : [],
    deleted,
  };
}
