import { OpenEcmError } from '@openecm/contracts';
import { ControlCharactersPipe } from './control-characters.pipe';

const pipe = new ControlCharactersPipe();
const refusal = (value: unknown, type: 'body' | 'query' | 'param' | 'custom', data?: string) => {
  try {
    pipe.transform(value, { type, ...(data ? { data } : {}) });
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(OpenEcmError);
    return error as OpenEcmError;
  }
};

describe('the control character rule of the edge', () => {
  it('names a path parameter, a query field and a nested body field holding a NUL', () => {
    expect(refusal('a\u0000b', 'param', 'clientId')?.fields).toEqual([{ field: 'clientId', message: 'must not contain control characters' }]);
    expect(refusal({ user: 'ok', endpoint: 'srv\u0001' }, 'query')?.fields?.map((f) => f.field)).toEqual(['endpoint']);
    const nested = refusal({ settings: { auth: { apiKey: 'k\u0000' } }, list: ['x', 'y\u007F'] }, 'body');
    expect(nested?.code).toBe('VALIDATION_FAILED');
    expect(nested?.fields?.map((f) => f.field)).toEqual(['list.1', 'settings.auth.apiKey']);
    expect(nested?.message).not.toContain('k\u0000');
  });

  it('lets a body value span lines or hold a tab, never a query or path value', () => {
    expect(refusal({ settings: { caBundle: '-----BEGIN CERTIFICATE-----\r\nMII\tA\n-----END CERTIFICATE-----\n' } }, 'body')).toBeUndefined();
    expect(refusal({ user: 'a\nb' }, 'query')?.fields?.map((f) => f.field)).toEqual(['user']);
    expect(refusal('a\tb', 'param', 'group')?.fields?.map((f) => f.field)).toEqual(['group']);
  });

  it('refuses a field name holding one, and a body that is itself such a string', () => {
    expect(refusal({ 'a\u0000': 1 }, 'body')?.fields).toEqual([{ field: '(body)', message: 'a field name must not contain control characters' }]);
    expect(refusal('x\u0000', 'body')?.fields?.map((f) => f.field)).toEqual(['(body)']);
  });

  it('walks a deeply nested body without exhausting the stack, and leaves custom parameters alone', () => {
    let deep: unknown = 'bottom\u0000';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(refusal(deep, 'body')?.fields).toHaveLength(1);
    expect(refusal({ clientId: 'a\u0000' }, 'custom')).toBeUndefined();
    expect(refusal({ user: 'CORP\\alice', n: 3, ok: true, none: null }, 'body')).toBeUndefined();
  });
});
