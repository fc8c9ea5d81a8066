import { DomainError, type DomainErrorKind } from '@handinger-webhooks/domain';
import { asStorageUnavailable } from '@handinger-webhooks/event-store';
import { TRPCError, type TRPC_ERROR_CODE_KEY } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { z } from 'zod';

/**
 * The one place errors are turned into what a client sees. Everything else
 * throws `TRPCError`s or lets domain and validation errors through, and they
 * are mapped here: DomainError kinds to HTTP-meaningful codes, zod issues to
 * `field: rule` messages, anything unexpected to a generic 500.
 */

/** The body of every REST error (SPEC §3). */
export interface ApiErrorBody {
  code: TRPC_ERROR_CODE_KEY;
  message: string;
}

const DOMAIN_ERROR_CODES: Record<DomainErrorKind, TRPC_ERROR_CODE_KEY> = {
  not_found: 'NOT_FOUND',
  conflict: 'CONFLICT',
  invalid: 'BAD_REQUEST',
  unavailable: 'SERVICE_UNAVAILABLE',
};

export const INTERNAL_ERROR_MESSAGE = 'Internal server error';

/** What a client may read of an error: never a stack, never the text of an unexpected failure. */
export const publicMessage = (error: TRPCError): string =>
  error.code === 'INTERNAL_SERVER_ERROR' ? INTERNAL_ERROR_MESSAGE : error.message;

/** The HTTP status of an error (its tRPC code decides it). */
export const httpStatusOf = (error: TRPCError): number => getHTTPStatusCodeFromError(error);

/** `{ code, message }` for a REST error response. */
export const restErrorBody = (error: TRPCError): ApiErrorBody => ({ code: error.code, message: publicMessage(error) });

/**
 * Maps an error a procedure ended with to the error the client gets.
 * Input validation errors become a plain 400 whose message names each
 * failing field and rule; their ZodError cause is dropped, as it adds
 * nothing a client may see. Storage that cannot take the request now (a
 * full disk, an unreachable database) is a 503 the client may retry
 * (SPEC §7), not a 500.
 */
export function toPublicError(error: TRPCError, rawInput: unknown): TRPCError {
  const cause = error.cause;
  const unavailable = asStorageUnavailable(cause);
  if (unavailable !== null) return new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: unavailable.message, cause: unavailable });
  if (error.code === 'BAD_REQUEST' && cause instanceof z.ZodError) {
    return new TRPCError({ code: 'BAD_REQUEST', message: validationMessage(cause.issues, rawInput) });
  }
  if (cause instanceof DomainError) {
    return new TRPCError({ code: DOMAIN_ERROR_CODES[cause.kind], message: cause.message, cause });
  }
  return error;
}

/** `url: must be a string; page: must be an integer ≥ 1`: each failing field and the rule it broke. */
export function validationMessage(issues: readonly z.core.$ZodIssue[], rawInput: unknown): string {
  return issues.map((issue) => `${fieldName(issue.path)}: ${ruleOf(issue, valueAt(rawInput, issue.path))}`).join('; ');
}

const fieldName = (path: readonly PropertyKey[]): string => (path.length === 0 ? 'input' : path.map(String).join('.'));

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

const TYPE_NAMES: Record<string, string> = {
  int: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'a boolean',
  object: 'an object',
  array: 'an array',
  null: 'null',
};

const FORMAT_NAMES: Record<string, string> = {
  datetime: 'an ISO 8601 date-time with a time zone, e.g. 2024-01-31T12:00:00Z',
  url: 'a URL',
  email: 'an email address',
};

function ruleOf(issue: z.core.$ZodIssue, value: unknown): string {
  if (value === undefined && issue.code !== 'custom') return 'is required';
  switch (issue.code) {
    case 'invalid_type':
      return `must be ${TYPE_NAMES[issue.expected] ?? issue.expected}`;
    case 'too_small':
      if (issue.origin === 'string') {
        return issue.minimum === 1 ? 'must not be empty' : `must be at least ${issue.minimum} characters`;
      }
      return `must be ${issue.inclusive ? '≥' : '>'} ${issue.minimum}`;
    case 'too_big':
      if (issue.origin === 'string') return `must be at most ${issue.maximum} characters`;
      return `must be ${issue.inclusive ? '≤' : '<'} ${issue.maximum}`;
    case 'invalid_value':
      return issue.values.length === 1
        ? `must be ${JSON.stringify(issue.values[0])}`
        : `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_format':
      return `must be ${FORMAT_NAMES[issue.format] ?? `a valid ${issue.format}`}`;
    default:
      return issue.message;
  }
}
