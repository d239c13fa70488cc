import type { JumpMethod, SecretServerSettings, VaultSystem } from '@openecm/contracts';
import { isSecretServerError } from '../secret-server/secret-server.errors';
import type { SecretServerRestClient } from '../secret-server/secret-server.rest-client';
import type { SecretServerSoapClient, SoapSecret } from '../secret-server/secret-server.soap-client';
import { firstByName, isIpAddress, jumpMethodOfTemplate, mapLimit, searchKey } from './systems';

/** Secrets read at once by a SOAP search, so one search never floods the vault. */
const READ_CONCURRENCY = 4;
/** A system often has several secrets (local admin, service accounts): summaries looked at per system wanted. */
const SUMMARIES_PER_SYSTEM = 4;
const MAX_SUMMARIES = 5000;

interface Found {
  machine: string;
  jumpMethod: JumpMethod;
}

/**
 * One system per machine named in a machine secret's Machine field (the connection's Machine Field setting),
 * compared case-insensitively; the first secret's template decides how it is reached.
 */
function systemsOf(vault: string, found: Found[], needle: string, limit: number, moreSecrets: boolean): { systems: VaultSystem[]; truncated: boolean } {
  const byMachine = new Map<string, VaultSystem>();
  for (const { machine, jumpMethod } of found) {
    const value = machine.trim().replace(/\.$/, '');
    const key = value.toLowerCase();
    if (value === '' || !key.includes(needle) || byMachine.has(key)) continue;
    byMachine.set(key, {
      vault,
      ref: { machine: key },
      name: value,
      hostname: value,
      ip: isIpAddress(value) ? value : null,
      jumpMethod,
      comments: '',
      networkId: null,
    });
  }
  const answer = firstByName([...byMachine.values()], limit);
  return { systems: answer.systems, truncated: answer.truncated || moreSecrets };
}

/**
 * REST: what the API account sees. The Machine field is searched for the term and comes back in each summary
 * as an extended field, so no secret is read.
 */
export async function searchRestSystems(
  vault: string,
  settings: SecretServerSettings,
  rest: SecretServerRestClient,
  token: string,
  search: string,
  limit: number,
): Promise<{ systems: VaultSystem[]; truncated: boolean }> {
  const needle = searchKey(search);
  const cap = Math.min(MAX_SUMMARIES, limit * SUMMARIES_PER_SYSTEM);
  const summaries = await rest.searchSecrets(token, {
    searchField: settings.machineField,
    searchText: search.trim(),
    isExactMatch: false,
    extendedFields: [settings.machineField],
    includeRestricted: true,
    limit: cap + 1,
  });
  const field = settings.machineField.toLowerCase();
  const found = summaries.slice(0, cap).flatMap((summary): Found[] => {
    const jumpMethod = jumpMethodOfTemplate(summary.secretTemplateName ?? '');
    const machine = summary.extendedFields?.find((f) => f.name.toLowerCase() === field)?.value;
    return summary.active !== false && jumpMethod && machine ? [{ machine, jumpMethod }] : [];
  });
  return systemsOf(vault, found, needle, limit, summaries.length > cap);
}

/**
 * SOAP: what the impersonated user sees. SearchSecrets finds the candidates; each machine secret is read (without
 * its settings) to learn its Machine field. A restricted secret (comment, approval or check-out) is not read, since
 * reading it would ask for a comment or check it out: its machine shows through the user's other secrets only.
 */
export async function searchSoapSystems(
  vault: string,
  settings: SecretServerSettings,
  soap: SecretServerSoapClient,
  token: string,
  search: string,
  limit: number,
): Promise<{ systems: VaultSystem[]; truncated: boolean }> {
  const needle = searchKey(search);
  const cap = Math.min(MAX_SUMMARIES, limit * SUMMARIES_PER_SYSTEM);
  const summaries = await soap.searchSecrets(token, search.trim(), { includeDeleted: false, includeRestricted: true });
  const readable = summaries.filter((s) => !s.isRestricted && jumpMethodOfTemplate(s.typeName) !== undefined);
  const read = await mapLimit(readable.slice(0, cap), READ_CONCURRENCY, async (summary): Promise<Found | undefined> => {
    let secret: SoapSecret;
    try {
      secret = await soap.getSecret(token, summary.secretId, { loadSettingsAndPermissions: false });
    } catch (error) {
      if (isSecretServerError(error, 'comment-required', 'approval-required', 'checkout-required', 'checked-out', 'access-denied', 'not-found')) return undefined;
      throw error;
    }
    const field = settings.machineField.toLowerCase();
    const machine = secret.items.find((i) => i.fieldName.toLowerCase() === field)?.value;
    const jumpMethod = jumpMethodOfTemplate(summary.typeName);
    return machine && jumpMethod ? { machine, jumpMethod } : undefined;
  });
  return systemsOf(vault, read.filter((f): f is Found => f !== undefined), needle, limit, readable.length > cap);
}
