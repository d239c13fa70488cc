import type { SecretServerSettings, VaultSystem } from '@openecm/contracts';
import { isSecretServerError } from '../secret-server/secret-server.errors';
import type { SecretServerRestClient } from '../secret-server/secret-server.rest-client';
import type { SecretServerSoapClient, SoapSecret } from '../secret-server/secret-server.soap-client';
import { jumpMethodOfTemplate, machineSystems, mapLimit, searchKey, type MachineFound } from './systems';

/** Secrets read at once by a SOAP search, so one search never floods the vault. */
const READ_CONCURRENCY = 4;
/** A system often has several secrets (local admin, service accounts): summaries looked at per system wanted. */
const SUMMARIES_PER_SYSTEM = 4;
const MAX_SUMMARIES = 5000;

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
  const found = summaries.slice(0, cap).flatMap((summary): MachineFound[] => {
    const jumpMethod = jumpMethodOfTemplate(summary.secretTemplateName ?? '');
    const machine = summary.extendedFields?.find((f) => f.name.toLowerCase() === field)?.value;
    return summary.active !== false && jumpMethod && machine ? [{ machine, jumpMethod }] : [];
  });
  return machineSystems(vault, found, needle, limit, summaries.length > cap);
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
  const read = await mapLimit(readable.slice(0, cap), READ_CONCURRENCY, async (summary): Promise<MachineFound | undefined> => {
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
  return machineSystems(vault, read.filter((f): f is MachineFound => f !== undefined), needle, limit, readable.length > cap);
}
