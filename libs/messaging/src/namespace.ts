import { configReader, namespaceConfig } from '@openecm/config';
import { qualify, streamName } from '@openecm/contracts';

/** Every request qualifies its subject: the variable is parsed again only when it changed. */
const readNamespace = configReader(namespaceConfig);

/** The deployment namespace (OPENECM_NAMESPACE). */
export function currentNamespace(): string | undefined {
  return readNamespace().OPENECM_NAMESPACE;
}

export function qualifiedSubject(subject: string): string {
  return qualify(subject, currentNamespace());
}

export function qualifiedStream(base: string): string {
  return streamName(base, currentNamespace());
}
