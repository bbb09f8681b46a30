import type { z } from 'zod';
import { DomainError } from '../errors';
import type { ActionErrorDetail } from './types';

/** The tool's input checked against its schema: 400 `validation_failed` naming each field otherwise. */
export function parseToolInput<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const details = result.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
  throw new DomainError(
    'validation_failed',
    `the request body is invalid: ${details.map((d) => `${d.path || '(root)'}: ${d.message}`).join('; ')}`,
    details,
  );
}

/** Input that is well formed but cannot be acted on (422), each field named. */
export function unprocessableInput(message: string, details: ActionErrorDetail[]): DomainError {
  return new DomainError('unprocessable', message, details);
}

/** `to.1` for the second recipient: the dotted paths the API's details use. */
export const pathOf = (...parts: Array<string | number>) => parts.join('.');
