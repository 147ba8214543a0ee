import { z } from 'zod';
import { validationFailed } from '../common/validation/zod-body.pipe.js';

/**
 * A non-negative integer query parameter written as plain decimal digits. Not `z.coerce.number()`: that reads
 * `?index=` as 0, `0x10` as 16 and `1e3` as 1000, so a malformed request would be answered as a valid one.
 */
export const decimalParam = (min: number, max: number = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .regex(/^(0|[1-9][0-9]*)$/u, 'Must be a non-negative integer in decimal digits.')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

/** Validates query-string parameters with a strict zod schema (400 REQUEST.VALIDATION_FAILED otherwise). */
export function parseQueryParams<S extends z.ZodType>(schema: S, query: unknown): z.output<S> {
  const parsed = schema.safeParse(query ?? {});
  if (parsed.success) return parsed.data;
  throw validationFailed(
    parsed.error.issues.map((issue) => ({
      path: issue.code === 'unrecognized_keys' ? `/${issue.keys.join(',')}` : '/' + issue.path.map(String).join('/'),
      message: issue.code === 'unrecognized_keys' ? 'Unknown query parameter.' : issue.message,
    })),
  );
}
