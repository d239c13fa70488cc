import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { recordGatewayAnswers, watchedGateways } from './gateway-answers';
import { OpenApiConformance, type OpenApiDescription } from './openapi-conformance';

// The end-to-end project's setup (jest.config.js): every answer a spec receives from the gateway it started
// must match the committed OpenAPI document, which a unit test keeps equal to the generated one.
const document = JSON.parse(readFileSync(resolve(__dirname, '../../../docs/openapi.json'), 'utf8')) as OpenApiDescription;
const conformance = new OpenApiConformance(document);
/** Each mismatch once, with the first test that met it and how often it came. */
const mismatches = new Map<string, { test: string; times: number }>();
let checked = 0;

const stop = recordGatewayAnswers((answer) => {
  checked++;
  const mismatch = conformance.check(answer);
  if (!mismatch) return;
  const seen = mismatches.get(mismatch);
  if (seen) seen.times++;
  else mismatches.set(mismatch, { test: expect.getState().currentTestName ?? '(before or after the tests)', times: 1 });
});

afterAll(() => {
  stop();
  if (watchedGateways() > 0 && checked === 0) throw new Error('a gateway was started but none of its answers was recorded');
  if (mismatches.size > 0) {
    const lines = [...mismatches].map(([mismatch, { test, times }]) => `${mismatch} (${times}×, first in "${test}")`);
    throw new Error(`gateway answers that do not match docs/openapi.json:\n${lines.join('\n')}`);
  }
});
