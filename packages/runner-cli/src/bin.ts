#!/usr/bin/env node
// Kept tiny: cold start is paid every minute under cron. Commands load their modules on demand.
import { runCli } from './program.js';

const code = await runCli(process.argv.slice(2));
// A full pipe takes the rest of a large output (`schedules --json`) asynchronously: let it drain first.
await Promise.all([process.stdout, process.stderr].map((stream) => new Promise((resolve) => stream.write('', resolve))));
// Exit explicitly: a store's pool or a handler's stray timer must not keep a cron tick alive.
process.exit(code);
