import { fileURLToPath } from 'node:url';

/**
 * The CLI's `bin.js`, for the lines `tickwork crontab` prints. Resolved from this module, which
 * sits beside bin.js at dist/'s top level: dist/ is bundled (scripts/build-dist.mjs), so a
 * command's code runs from a chunk there, not from dist/commands/.
 */
export function binPath(): string {
  return fileURLToPath(new URL('./bin.js', import.meta.url));
}
