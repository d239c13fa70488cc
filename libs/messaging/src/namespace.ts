import { loadConfig, namespaceConfig } from '@openecm/config';
import { qualify, streamName } from '@openecm/contracts';

/** The deployment namespace; read once, at the time handlers are declared. */
export function currentNamespace(): string | undefined {
  return loadConfig(namespaceConfig).OPENECM_NAMESPACE;
}

export function qualifiedSubject(subject: string): string {
  return qualify(subject, currentNamespace());
}

export function qualifiedStream(base: string): string {
  return streamName(base, currentNamespace());
}
