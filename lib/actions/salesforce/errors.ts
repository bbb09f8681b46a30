import { ProviderError } from '../../providers/errors';
import { ActionFailure, type ActionError, type ActionErrorDetail } from '../types';

/** One error of Salesforce's REST answers (`[{errorCode, message, fields}]`, or `statusCode` in sObject Collections). */
export interface SalesforceErrorItem {
  errorCode?: string;
  statusCode?: string;
  message?: string;
  fields?: string[];
  duplicateResult?: {
    matchResults?: Array<{ matchRecords?: Array<{ record?: { Id?: string; attributes?: { type?: string } } }> }>;
  };
}

const FIELD_ERRORS = new Set([
  'REQUIRED_FIELD_MISSING',
  'FIELD_CUSTOM_VALIDATION_EXCEPTION',
  'INVALID_FIELD',
  'INVALID_FIELD_FOR_INSERT_UPDATE',
  'STRING_TOO_LONG',
  'INVALID_EMAIL_ADDRESS',
  'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
  'MALFORMED_ID',
  'FIELD_INTEGRITY_EXCEPTION',
  'INVALID_TYPE_ON_FIELD_IN_RECORD',
  'NUMBER_OUTSIDE_VALID_RANGE',
  'INVALID_CROSS_REFERENCE_KEY',
  'JSON_PARSER_ERROR',
  'INVALID_TYPE',
]);

/** The fields an error names: its `fields`, or the column its message quotes (INVALID_FIELD names none). */
function fieldsOf(item: SalesforceErrorItem): string[] {
  if (item.fields?.length) return item.fields;
  const quoted = /(?:column|field) '([A-Za-z0-9_.]+)'/i.exec(item.message ?? '');
  return quoted ? [quoted[1]!] : [];
}

/**
 * Salesforce's refusal as the action's answer:
 * - DUPLICATES_DETECTED: 409, each duplicate's id in `details` (`duplicateId`);
 * - REQUIRED_FIELD_MISSING, FIELD_CUSTOM_VALIDATION_EXCEPTION, INVALID_FIELD and the other field errors:
 *   422 naming the fields;
 * - NOT_FOUND, ENTITY_IS_DELETED: 404;
 * - anything else refused: 422 with Salesforce's code and message.
 * (REQUEST_LIMIT_EXCEEDED is a quota refusal, answered 429 by the action handler.)
 */
export function answerFor(items: SalesforceErrorItem[], status = 400): ActionError {
  const first = items[0] ?? {};
  const code = first.errorCode ?? first.statusCode ?? `HTTP_${status}`;
  const message = items.map((item) => `${item.errorCode ?? item.statusCode}: ${item.message ?? ''}`).join('; ');
  if (code === 'DUPLICATES_DETECTED') {
    const ids = (first.duplicateResult?.matchResults ?? []).flatMap((m) => m.matchRecords ?? []).map((r) => r.record?.Id).filter((id): id is string => !!id);
    return {
      status: 409,
      code: 'conflict',
      message: `Salesforce found a duplicate: ${first.message ?? 'duplicate record'}`,
      details: ids.length
        ? ids.map((id) => ({ path: 'Id', message: `duplicate of ${id}`, duplicateId: id, salesforceCode: code }))
        : [{ path: '', message: first.message ?? 'duplicate', salesforceCode: code }],
    };
  }
  if (code === 'NOT_FOUND' || code === 'ENTITY_IS_DELETED' || status === 404) {
    return { status: 404, code: 'not_found', message: `Salesforce: ${message}`, details: [{ path: 'id', message: first.message ?? 'not found', salesforceCode: code }] };
  }
  const details: ActionErrorDetail[] = items.flatMap((item) => {
    const itemCode = item.errorCode ?? item.statusCode ?? code;
    const fields = fieldsOf(item);
    return fields.length
      ? fields.map((field) => ({ path: field, message: item.message ?? itemCode, salesforceCode: itemCode }))
      : [{ path: '', message: item.message ?? itemCode, salesforceCode: itemCode }];
  });
  return {
    status: 422,
    code: 'unprocessable',
    message: FIELD_ERRORS.has(code) ? `Salesforce refused the record: ${message}` : `Salesforce refused the request: ${message}`,
    details,
  };
}

/** A refused request (a ProviderError carrying jsforce's error) as an ActionFailure; anything else as it is. */
export function refusalOf(error: unknown): unknown {
  if (!(error instanceof ProviderError) || error.isTransient || error.isQuota || error.isUnauthorized) return error;
  const data = (error.cause as { data?: unknown } | undefined)?.data;
  const items = (Array.isArray(data) ? data : data && typeof data === 'object' ? [data] : []) as SalesforceErrorItem[];
  return new ActionFailure(answerFor(items.length ? items : [{ errorCode: error.options.reason, message: error.message }], error.status));
}
