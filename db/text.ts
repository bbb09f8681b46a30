/**
 * What Postgres can store as text: no NUL (text and jsonb refuse it), no lone UTF-16 surrogate (jsonb
 * refuses its escape, UTF-8 cannot carry it).
 */
export const NUL = '\u0000';
/** A high surrogate not followed by a low one, or a low one not preceded by a high one (code units: no `u` flag). */
export const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
export const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');

/**
 * `value` with each NUL and lone surrogate replaced by U+FFFD: for text the system writes itself (an
 * error message cut at a length, a handler's result), which must be stored rather than refused.
 */
export function storableText(value: string): string {
  return value.replaceAll(NUL, '\uFFFD').replace(LONE_SURROGATES, '\uFFFD');
}

/** JSON text of `value` whose strings are all storable (see `storableText`), for a jsonb parameter. */
export function storableJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => (typeof item === 'string' ? storableText(item) : item));
}
