import type { z } from 'zod';
import { DomainError, parseInput } from '../errors';
import type { ActionErrorDetail } from './types';

/** The tool's input checked against its schema: 400 `validation_failed` naming each field otherwise. */
export function parseToolInput<T>(schema: z.ZodType<T>, value: unknown): T {
  return parseInput(schema, value, 'the request body');
}

/** Input that is well formed but cannot be acted on (422), each field named. */
export function unprocessableInput(message: string, details: ActionErrorDetail[]): DomainError {
  return new DomainError('unprocessable', message, details);
}

/** `to.1` for the second recipient: the dotted paths the API's details use. */
export const pathOf = (...parts: Array<string | number>) => parts.join('.');
