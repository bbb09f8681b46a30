import { z } from 'zod';

/**
 * Salesforce record ids come in two forms: 15 characters, case-sensitive (what the UI and reports show),
 * and 18 characters, the same 15 plus a 3-character checksum of their letter case, which survives
 * case-insensitive tools (what the API returns, and what switchyard stores). An id given in either form
 * is made the 18-character one here, in one place, before it is compared with a stored id or sent on.
 */
export const SALESFORCE_ID_PATTERN = /^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$/;

const CHECKSUM_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';

/**
 * The 18-character form of a 15- or 18-character id: each 5-character chunk of the first 15 gives one
 * checksum character, whose index has bit i set when the chunk's i-th character is an upper-case letter.
 * An 18-character id is rebuilt from its first 15 (its suffix is case-insensitive, so a lower-cased
 * one comes back canonical). Throws on anything else: callers validate with SALESFORCE_ID_PATTERN first.
 */
export function salesforceId18(id: string): string {
  if (!SALESFORCE_ID_PATTERN.test(id)) throw new Error(`not a Salesforce id: ${JSON.stringify(id)}`);
  const base = id.slice(0, 15);
  let suffix = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const c = base.charCodeAt(chunk * 5 + i);
      if (c >= 65 && c <= 90) bits |= 1 << i;
    }
    suffix += CHECKSUM_ALPHABET[bits];
  }
  return base + suffix;
}

/** A request's Salesforce id (15 or 18 characters), as its 18-character form. */
export const salesforceIdSchema = z
  .string()
  .regex(SALESFORCE_ID_PATTERN, 'expected a 15- or 18-character Salesforce id')
  .transform(salesforceId18);
