// Deletes every key under `prefix:` on the Redis at `url` (a bench's own data), 500 keys per DEL.
import { execFileSync } from 'node:child_process';

export function dropRedisPrefix(url, prefix) {
  const { hostname, port } = new URL(url);
  const keys = execFileSync('redis-cli', ['-h', hostname, '-p', port, '--scan', '--pattern', `${prefix}:*`], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  })
    .split('\n')
    .filter(Boolean);
  for (let i = 0; i < keys.length; i += 500)
    execFileSync('redis-cli', ['-h', hostname, '-p', port, 'DEL', ...keys.slice(i, i + 500)], { stdio: 'ignore' });
}
