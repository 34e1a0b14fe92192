/** Two projects: fast unit tests next to the code (*.test.ts) and integration tests against the
 * real Kafka broker and NATS server (*.itest.ts), which `npm run test:all` starts first. */
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.json' }];
const common = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': tsJest },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};
module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/**/*.test.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/**/*.itest.ts'], setupFilesAfterEnv: ['<rootDir>/.ci/jest.integration.setup.js'], globalTeardown: '<rootDir>/.ci/jest.integration.teardown.js' },
  ],
};
