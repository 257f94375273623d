// What `tickwork run | list | logs | trigger | migrate | daemon` load (through jiti). The web
// process (scripts/start.mjs) builds the same config from the same function. Kept cheap for a
// crontab tick: the store opens its own connection and MikroORM loads only when a job runs.
import { createAppDatabase } from './src/database.js';
import { readSettings } from './src/settings.js';
import { openExampleStore } from './src/store.js';
import { createTickworkConfig } from './src/tickwork.js';

const settings = readSettings(process.env);
const database = createAppDatabase(settings);

export default createTickworkConfig(settings, database, () =>
  openExampleStore(settings, database, { ownsDatabase: true, ownConnection: true }),
);
