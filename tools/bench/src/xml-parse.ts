/**
 * The XML parser on documents a hostile Secret Server answers (shaped as the simulator's `hostile` faults)
 * and on the largest ordinary answer the size limit lets through, with the SOAP client's bounds and with
 * every bound lifted (what the reader itself costs), at growing sizes so its scaling shows:
 *
 *   node -r @swc-node/register tools/bench/src/xml-parse.ts [parser module]
 *
 * The optional module (a file exporting `parseXml`, e.g. an earlier libs/xml/src/parse.ts taken out with
 * `git show <rev>:libs/xml/src/parse.ts`) is measured instead of the current parser.
 */
import { resolve } from 'node:path';
import { parseXml as currentParseXml, type XmlElement, type XmlParseOptions } from '@openecm/xml';

type Parse = (input: string, options?: XmlParseOptions) => XmlElement;

/** What the Secret Server SOAP client allows (secret-server.soap-client.ts). */
const CLIENT: XmlParseOptions = { maxElements: 200_000, maxAttributes: 200_000 };
const LIFTED: XmlParseOptions = {
  maxDepth: 1_000,
  maxElements: 10_000_000,
  maxAttributesPerElement: 10_000_000,
  maxAttributes: 10_000_000,
  maxNamespaceDeclarations: 10_000_000,
  maxNameLength: 10_000_000,
  maxTextLength: 100_000_000,
};
/** A single parse slower than this is not repeated. */
const REPEAT_BELOW_MS = 200;
const MAX_RUNS = 15;

const SOAP_OPEN = '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soap:Body>';
const SOAP_CLOSE = '</soap:Body></soap:Envelope>';
const list = (count: number, item: (i: number) => string): string => Array.from({ length: count }, (_, i) => item(i)).join('');

/** `attributes` on one element inside an envelope: 50 000 make the 478 KB answer seen in the field. */
function onOneElement(attributes: number): string {
  return `${SOAP_OPEN}<R${list(attributes, (i) => ` a${i}=""`)}/>${SOAP_CLOSE}`;
}

/** `declarations` namespace prefixes on the root, and `children` elements under them. */
function underDeclarations(declarations: number, children: number): string {
  return `<r${list(declarations, (i) => ` xmlns:p${i}="urn:${i}"`)}>${'<p0:a/>'.repeat(children)}</r>`;
}

/** `levels` nested elements declaring `perLevel` prefixes each, around `leaves` elements using them. */
function deepScopes(levels: number, perLevel: number, leaves: number): string {
  const open = list(levels, (l) => `<s${list(perLevel, (i) => ` xmlns:l${l}n${i}="urn:${l}:${i}"`)}>`);
  return `${SOAP_OPEN}${open}${list(leaves, (i) => `<l${i % levels}n0:a/>`)}${'</s>'.repeat(levels)}${SOAP_CLOSE}`;
}

/** A SOAP search answer listing `count` secrets, as Secret Server writes one. */
function searchAnswer(count: number): string {
  const summary = (i: number): string =>
    `<SecretSummary><SecretId>${i}</SecretId><SecretName>srv-${i} Administrator</SecretName><SecretTypeName>Windows Account</SecretTypeName>` +
    `<SecretTypeId>6003</SecretTypeId><FolderId>5</FolderId><IsRestricted>false</IsRestricted><FolderPath xsi:nil="true" /></SecretSummary>`;
  return (
    `${SOAP_OPEN}<SearchSecretsByFieldValueResponse xmlns="urn:thesecretserver.com"><SearchSecretsByFieldValueResult><Errors /><SecretSummaries>` +
    `${list(count, summary)}</SecretSummaries></SearchSecretsByFieldValueResult></SearchSecretsByFieldValueResponse>${SOAP_CLOSE}`
  );
}

function measure(parse: Parse, xml: string, options: XmlParseOptions): { ms: number; outcome: string } {
  const times: number[] = [];
  let outcome = 'parsed';
  while (times.length < MAX_RUNS) {
    const startedAt = process.hrtime.bigint();
    try {
      parse(xml, options);
      outcome = 'parsed';
    } catch (error) {
      outcome = `refused: ${error instanceof Error ? error.message.replace(/ \(line.*$/, '') : 'unknown'}`;
    }
    times.push(Number(process.hrtime.bigint() - startedAt) / 1e6);
    if ((times[0] ?? 0) >= REPEAT_BELOW_MS) break;
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)] ?? Number.NaN, outcome };
}

function main(): void {
  const module = process.argv[2];
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a parser to compare is named at run time
  const parse: Parse = module ? (require(resolve(module)) as { parseXml: Parse }).parseXml : currentParseXml;
  const cases: Array<[string, string, XmlParseOptions]> = [
    ['50 000 attributes on one element, client bounds', onOneElement(50_000), CLIENT],
    ['50 x 60 declarations over 10 000 leaves, client bounds', deepScopes(50, 60, 10_000), CLIENT],
    ['search answer of 15 000 secrets, client bounds', searchAnswer(15_000), CLIENT],
    ['50 x 60 declarations over 10 000 leaves, bounds lifted', deepScopes(50, 60, 10_000), LIFTED],
    ...[25_000, 50_000, 100_000].map((n): [string, string, XmlParseOptions] => [`${n} attributes on one element, bounds lifted`, onOneElement(n), LIFTED]),
    ...[2_500, 5_000, 10_000].map((n): [string, string, XmlParseOptions] => [`${n} declarations over 10 000 children, bounds lifted`, underDeclarations(n, 10_000), LIFTED]),
  ];
  process.stdout.write(`parser: ${module ?? '@openecm/xml'}; median ms per parse (one run when above ${REPEAT_BELOW_MS} ms)\n`);
  for (const [name, xml, options] of cases) {
    const { ms, outcome } = measure(parse, xml, options);
    process.stdout.write(`${name.padEnd(58)} ${`${Math.round(xml.length / 1024)} KiB`.padStart(9)} ${ms.toFixed(1).padStart(10)} ms  ${outcome}\n`);
  }
}

main();
