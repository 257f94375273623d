import { ACCESS_LUA } from './access.js';
import { CLAIM_LUA } from './claim.js';
import { COMPLETE_LUA, REAP_LUA, REAP_TAIL_LUA, RENEW_LUA } from './leases.js';
import { PARTITIONS_LUA } from './partitions.js';
import { PRELUDE } from './prelude.js';
import { REQUESTS_LUA } from './requests.js';
import { PRUNE_LUA } from './run-log.js';
import { REAP_RUNNERS_LUA, RUNNERS_LUA, RUNNERS_PRELUDE } from './runners.js';
import { SCHEDULES_LUA } from './schedules.js';
import { READ_STATES_LUA, STATE_LUA } from './state.js';

/** Every script, by the command name it is registered under with ioredis `defineCommand`. */
export const SCRIPTS = {
  tickworkClaim: PRELUDE + CLAIM_LUA,
  tickworkComplete: PRELUDE + COMPLETE_LUA,
  tickworkRenew: PRELUDE + RENEW_LUA,
  tickworkReap: PRELUDE + RUNNERS_PRELUDE + REAP_LUA + REAP_RUNNERS_LUA + REAP_TAIL_LUA,
  tickworkRunners: PRELUDE + RUNNERS_PRELUDE + RUNNERS_LUA,
  tickworkState: PRELUDE + STATE_LUA,
  tickworkReadStates: READ_STATES_LUA,
  tickworkRequests: PRELUDE + REQUESTS_LUA,
  tickworkPrune: PRELUDE + PRUNE_LUA,
  tickworkSchedules: PRELUDE + SCHEDULES_LUA,
  tickworkAccess: PRELUDE + ACCESS_LUA,
  tickworkPartitions: PRELUDE + PARTITIONS_LUA,
} as const;

/** The name of one registered script. */
export type ScriptName = keyof typeof SCRIPTS;
