import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { OpenEcmError, type FieldIssue } from '@openecm/contracts';

/** Unicode control characters (C0, DEL, C1). */
const ANY_CONTROL = /\p{Cc}/u;
/** In a body, a value may span lines (a CA bundle in PEM) or hold a tab; nothing else. */
const BODY_CONTROL = /(?![\t\n\r])\p{Cc}/u;
const MESSAGE = 'must not contain control characters';
const MAX_NAMED = 20;

/**
 * The edge's one rule for every string a request carries, in the path, the query and the body, before any
 * schema or store sees it: no control character (a body value may hold tabs and line breaks). A NUL is where
 * it matters most: Postgres refuses it in text, which would otherwise surface as a failure of the gateway. The
 * answer is 400 VALIDATION_FAILED naming each field, as the schemas name theirs.
 */
@Injectable()
export class ControlCharactersPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type === 'custom') return value;
    const where = metadata.type === 'body' ? 'request body' : metadata.type === 'query' ? 'query' : 'path';
    const fields = controlCharacterFields(value, metadata.type === 'body' ? BODY_CONTROL : ANY_CONTROL, metadata.data ?? '');
    if (fields.length > 0) {
      throw new OpenEcmError('VALIDATION_FAILED', `invalid ${where}: ${fields.map((f) => `${f.field} (${f.message})`).join('; ')}`, fields);
    }
    return value;
  }
}

/**
 * Every field of `value` holding a string that `pattern` matches, named by its dotted path (`(body)` for the
 * value itself). Walked with a stack of its own, so a deeply nested body cannot exhaust the call stack.
 */
export function controlCharacterFields(value: unknown, pattern: RegExp, root = ''): FieldIssue[] {
  const found: FieldIssue[] = [];
  const stack: Array<{ path: string; value: unknown }> = [{ path: root, value }];
  while (stack.length > 0 && found.length < MAX_NAMED) {
    const item = stack.pop() as { path: string; value: unknown };
    if (typeof item.value === 'string') {
      if (pattern.test(item.value)) found.push({ field: item.path || '(body)', message: MESSAGE });
    } else if (typeof item.value === 'object' && item.value !== null) {
      for (const [key, child] of Object.entries(item.value)) {
        if (ANY_CONTROL.test(key)) {
          found.push({ field: item.path || '(body)', message: 'a field name must not contain control characters' });
          continue;
        }
        stack.push({ path: item.path ? `${item.path}.${key}` : key, value: child });
      }
    }
  }
  return found.sort((a, b) => a.field.localeCompare(b.field));
}
