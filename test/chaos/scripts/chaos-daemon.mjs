// One chaos daemon process: createDaemon on chaos-config.mjs, with an optional clock skew
// (CHAOS_CLOCK_SKEW_MS) to play a runner whose clock runs ahead; like a real deployment, the
// daemon corrects its clock to the store's (storeClock). Prints "ready" on stdout.
import { createDaemon } from '@tickwork/runner-daemon';
import config from './chaos-config.mjs';

const skew = Number(process.env.CHAOS_CLOCK_SKEW_MS ?? '0');
const clock = { now: () => new Date(Date.now() + skew) };
const silent = {
  debug() {},
  info() {},
  warn() {},
  error(obj, msg) {
    console.error(msg ?? '', JSON.stringify(obj));
  },
  child() {
    return silent;
  },
};
const daemon = createDaemon(
  { config },
  {
    clock,
    storeClock: true,
    logger: silent,
    pollIntervalMs: Number(process.env.CHAOS_POLL_MS ?? '250'),
    shutdownGraceMs: 2000,
  },
);
daemon.ready.then(
  () => process.stdout.write('ready\n'),
  (error) => {
    console.error(String(error));
    process.exit(3);
  },
);
const stop = () => daemon.stop().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
await daemon.done;
