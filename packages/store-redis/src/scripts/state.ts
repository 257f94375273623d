import { KEYS_ARE_HASHES } from './prelude.js';

/**
 * Job-state changes. Request `{ op: 'ensure', now, items: [{ ce, code, key }] }`, or
 * `{ op: 'pause' | 'override', ce, code, key, now, paused, note, override }`.
 * Pause and override publish a `state` change from inside the script, so a subscriber
 * never sees a change before it is stored.
 */
export const STATE_LUA = `
local bad = check_globals()
if bad then return redis.error_reply(bad) end
if req.op == 'ensure' then
  for _, c in ipairs(req.items) do
    bad = check_job(c.ce)
    if bad then return redis.error_reply(bad) end
  end
  local out = {}
  for i, c in ipairs(req.items) do
    local state, created = get_state(c.ce, c.code, c.key, req.now)
    if created then put_state(c.ce, state, true) end
    out[i] = state
  end
  return cjson.encode(out)
end
bad = check_job(req.ce)
if bad then return redis.error_reply(bad) end
local state, created = get_state(req.ce, req.code, req.key, req.now)
if req.op == 'pause' then
  if req.paused then
    state.paused = true
    state.pausedNote = req.note
  else
    if state.paused then state.resumedAt = req.now end
    state.paused = false
    state.pausedNote = NULL
  end
else
  state.scheduleOverride = req.override
end
state.updatedAt = req.now
put_state(req.ce, state, created)
publish('state', req.code, req.key)
return cjson.encode(state)
`;

/**
 * Reads states by ref, one call per shard: KEYS the states hashes (each once), ARGV[1] JSON
 * [[i, key]], the field `key` of KEYS[i] for each ref in order; answers each stored JSON, or nil.
 * Not one HGET each in a pipeline: a daemon's resync reads every loaded schedule's state every
 * minute, 1,000 commands (and replies) a page. Every key is checked to be a hash first.
 */
export const READ_STATES_LUA = `${KEYS_ARE_HASHES}local out = {}
for j, r in ipairs(cjson.decode(ARGV[1])) do
  out[j] = redis.call('HGET', KEYS[r[1]], r[2])
end
return out
`;
