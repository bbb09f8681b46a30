import { and, eq, getTableColumns, isNull, sql, type SQL } from 'drizzle-orm';
import { unionAll } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import type { Db } from '../../db/client';
import { crmRecords, type CrmObject } from '../../db/schema';
import { DomainError } from '../errors';
import { salesforceIdSchema } from '../providers/salesforce-id';
import { pageQuerySchema, decodeKeyset, keysetTime, toPage } from '../pagination';
import { containsPattern, searchText } from './query';

/** The path segment of GET /api/crm/{object}: lower-case, singular. */
export const CRM_PATH_OBJECTS: Record<string, CrmObject> = {
  lead: 'Lead',
  contact: 'Contact',
  account: 'Account',
  opportunity: 'Opportunity',
};

/** An unknown object is an unknown resource: 404. */
export function crmObjectParam(value: string | null): CrmObject {
  // An own property only: `constructor` or `__proto__` must name nothing.
  const object = value && Object.hasOwn(CRM_PATH_OBJECTS, value) ? CRM_PATH_OBJECTS[value] : undefined;
  if (!object) throw new DomainError('not_found', `no CRM object "${value ?? ''}"; expected lead, contact, account or opportunity`);
  return object;
}

/** 15 characters (as the Salesforce UI shows ids) or 18: matched as the 18-character form switchyard stores. */
const salesforceId = salesforceIdSchema;
const text = z.string().min(1).max(255);
const base = pageQuerySchema.extend({ object: z.string(), q: searchText.optional() });

/** Each object's filters; a filter of another object is refused (400), not silently ignored. */
export const crmListQueries = {
  Lead: base.extend({ email: z.email().max(254).optional(), company: text.optional(), status: text.optional() }),
  Contact: base.extend({ email: z.email().max(254).optional(), accountId: salesforceId.optional() }),
  Account: base.extend({ industry: text.optional() }),
  Opportunity: base.extend({
    stageName: text.optional(),
    accountId: salesforceId.optional(),
    minAmount: z.string().regex(/^\d{1,16}(\.\d{1,2})?$/, 'expected a non-negative amount, e.g. 5000 or 5000.50').optional(),
  }),
} satisfies Record<CrmObject, z.ZodObject>;

export interface CrmListQuery {
  limit: number;
  cursor?: string;
  q?: string;
  email?: string;
  company?: string;
  status?: string;
  accountId?: string;
  industry?: string;
  stageName?: string;
  minAmount?: string;
}

const { userId: _u, deletedAt: _d, accountProviderId: _a, amount: _m, ...recordColumns } = getTableColumns(crmRecords);
const columns = { ...recordColumns, accountId: crmRecords.accountProviderId, amount: crmRecords.amount };

/**
 * The caller's records of one object (deleted excluded), most recently modified in Salesforce
 * (SystemModstamp) first. Text filters are case-insensitive: email, status, industry and stageName
 * match exactly, company and q (the name) by substring; minAmount is amount >= it.
 * Served by crm_records_user_object_idx; a record without SystemModstamp sorts last (NULLS LAST, as
 * the index), so a page that crosses into them unions the two index ranges in one statement.
 */
export async function listCrmRecords(db: Db, userId: string, object: CrmObject, query: CrmListQuery) {
  const r = crmRecords;
  const position = query.cursor ? decodeKeyset(query.cursor) : null;
  const filters: (SQL | undefined)[] = [
    eq(r.userId, userId),
    eq(r.object, object),
    isNull(r.deletedAt),
    query.email ? sql`lower(${r.email}) = ${query.email.toLowerCase()}` : undefined,
    query.company ? sql`${r.company} ILIKE ${containsPattern(query.company)}` : undefined,
    query.status ? sql`lower(${r.status}) = ${query.status.toLowerCase()}` : undefined,
    query.accountId ? eq(r.accountProviderId, query.accountId) : undefined,
    query.industry ? sql`lower(${r.industry}) = ${query.industry.toLowerCase()}` : undefined,
    query.stageName ? sql`lower(${r.stageName}) = ${query.stageName.toLowerCase()}` : undefined,
    query.minAmount ? sql`${r.amount} >= ${query.minAmount}::numeric` : undefined,
    query.q ? sql`${r.name} ILIKE ${containsPattern(query.q)}` : undefined,
  ];
  const select = () => db.select({ ...columns, keysetTime: keysetTime(r.systemModstamp) }).from(r);
  const order = [sql`${r.systemModstamp} DESC NULLS LAST`, sql`${r.id} DESC NULLS LAST`];
  const limit = query.limit + 1;
  const withoutStamp = select()
    .where(and(...filters, isNull(r.systemModstamp), position?.t === null ? sql`${r.id} < ${position.i}` : undefined))
    // The same order as by id alone among these rows, spelled as the index's so it delivers the rows in
    // order and the union reads one of them, instead of all of them sorted.
    .orderBy(...order)
    .limit(limit);
  const rows =
    position?.t === null
      ? await withoutStamp
      : await unionAll(
          select()
            .where(and(...filters, position ? sql`(${r.systemModstamp}, ${r.id}) < (${position.t}::timestamptz, ${position.i})` : sql`${r.systemModstamp} IS NOT NULL`))
            .orderBy(...order)
            .limit(limit),
          withoutStamp,
        )
          .orderBy(sql`system_modstamp DESC NULLS LAST`, sql`id DESC NULLS LAST`)
          .limit(limit);
  return toPage(rows, query.limit, ({ keysetTime: _k, ...record }) => ({
    ...record,
    amount: record.amount === null ? null : Number(record.amount),
  }));
}
