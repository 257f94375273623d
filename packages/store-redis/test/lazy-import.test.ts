import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { REDIS_URL } from './redis-fixture.js';

// Runs in a child process so the test's own imports of ioredis do not count.
const PROBE = `
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const loaded = () => Object.keys(require.cache).some((path) => path.includes('/ioredis/'));
const { createRedisStore } = await import('./dist/index.js');
const store = createRedisStore({ url: process.argv[1], prefix: 'twtest-lazy' });
const before = loaded();
await store.ping();
const after = loaded();
await store.close();
console.log(JSON.stringify({ before, after }));
`;

describe('import cost', () => {
  it('importing the package and creating a store load neither ioredis nor a connection until the first call', () => {
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', PROBE, REDIS_URL], {
      cwd: new URL('..', import.meta.url),
      encoding: 'utf8',
    });
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout.trim())).toEqual({ before: false, after: true });
  });
});
