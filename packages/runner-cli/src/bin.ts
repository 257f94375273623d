#!/usr/bin/env node
// Kept tiny: cold start is paid every minute under cron. Commands load their modules on demand.
import { runCli } from './program.js';

const code = await runCli(process.argv.slice(2));
// Exit explicitly: a store's pool or a handler's stray timer must not keep a cron tick alive.
process.exit(code);
