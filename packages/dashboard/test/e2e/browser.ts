/** Debian's Chromium driven by playwright-core (never a browser download). */
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

/** Where Debian's package puts it (`apt-get install -y chromium`). */
export const CHROMIUM = process.env.TICKWORK_CHROMIUM ?? '/usr/bin/chromium';

/** Screenshots land here (gitignored). */
export const OUTPUT = fileURLToPath(new URL('../../test-output/', import.meta.url));

/** Launches Chromium; a missing binary fails with how to install it. */
export async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is not installed at ${CHROMIUM}: apt-get update && apt-get install -y chromium`);
  mkdirSync(OUTPUT, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
}
