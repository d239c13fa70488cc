import type { XmlElement } from './parse';

export const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';

/** The first child with that local name, and namespace when one is given. */
export function child(parent: XmlElement | undefined, local: string, ns?: string): XmlElement | undefined {
  return parent?.children.find((c) => c.local === local && (ns === undefined || c.ns === ns));
}

export function children(parent: XmlElement | undefined, local: string, ns?: string): XmlElement[] {
  return parent?.children.filter((c) => c.local === local && (ns === undefined || c.ns === ns)) ?? [];
}

/** `xsi:nil="true"` (or "1"), the way a serializer writes a null reference. */
export function isNil(element: XmlElement): boolean {
  return element.attributes.some((a) => a.local === 'nil' && a.ns === XSI_NS && (a.value.trim() === 'true' || a.value.trim() === '1'));
}

/** The text of a child element; undefined when absent or xsi:nil. */
export function childText(parent: XmlElement | undefined, local: string, ns?: string): string | undefined {
  const element = child(parent, local, ns);
  if (!element || isNil(element)) return undefined;
  return element.text;
}
