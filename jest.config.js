// One jest run for the whole workspace. Projects split the tiers so each can be run alone:
//   npx jest --selectProjects unit | integration | e2e
const { readFileSync } = require('node:fs');
const swc = JSON.parse(readFileSync(`${__dirname}/.swcrc`, 'utf8'));
const { compilerOptions } = require('./tsconfig.base.json');

// `@openecm/x` maps to its file; a wildcard alias (`@openecm/vault-type/*`) maps its `*` to the same part of the path.
const moduleNameMapper = Object.fromEntries(
  Object.entries(compilerOptions.paths).map(([alias, [target]]) => [
    `^${alias.replaceAll('/', '\\/').replace('*', '([^/]+)')}$`,
    `<rootDir>/${target.replace('*', '$1')}`,
  ]),
);

const common = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['@swc/jest', { ...swc, sourceMaps: 'inline', swcrc: false }],
    // openid-client and its dependencies ship ES modules only, which jest's CommonJS runtime cannot load as they are
    '^.+\\.js$': ['@swc/jest', { ...swc, jsc: { ...swc.jsc, parser: { syntax: 'ecmascript' } }, sourceMaps: false, swcrc: false }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(openid-client|oauth4webapi|jose)/)'],
  moduleNameMapper,
  setupFiles: ['<rootDir>/libs/testing/src/jest-setup.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};

module.exports = {
  // integration and end-to-end tests wait on real servers and child processes
  testTimeout: 30_000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,tools}/**/src/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/{apps,libs,tools}/**/test/**/*.int-spec.ts'],
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/e2e/**/*.e2e-spec.ts'],
      // every gateway answer the suite receives is checked against docs/openapi.json
      setupFilesAfterEnv: ['<rootDir>/libs/testing/src/e2e-answers-setup.ts'],
    },
  ],
};
