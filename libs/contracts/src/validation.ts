import type { z } from 'zod';
import { OpenEcmError, type FieldIssue } from './errors';

export function fieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      const base = path ? `${path}.` : '';
      return { field: issue.keys.map((k) => base + k).join(', '), message: 'unknown field' };
    }
    return { field: path || '(body)', message: issue.message };
  });
}

/** Parses or throws VALIDATION_FAILED naming every bad field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const fields = fieldIssues(result.error);
    throw new OpenEcmError(
      'VALIDATION_FAILED',
      `invalid ${what}: ${fields.map((f) => `${f.field} (${f.message})`).join('; ')}`,
      fields,
    );
  }
  return result.data;
}
