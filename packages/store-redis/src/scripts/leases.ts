/**
 * Completion, renewal and reaping: each a single script, each checking the fencing token
 * atomically. A run of a runtime schedule removed while it ran is recorded without a state.
 */

/**
 * Request `{ items: [{ ce, n, key, token, status, reason, finishedAt, message, error, stack }] }`; answers per item
 * (`state` null when there is none). Accepted while the run is \`running\` with that token, also past
 * its lease's expiry (nobody reaped or took it over); a completion without a message keeps the run's.
 */
export const COMPLETE_LUA = `
local bad = check_batch(req.items)
if bad then return redis.error_reply(bad) end
local out = {}
for i, c in ipairs(req.items) do
  local run = get_run(c.ce, c.n)
  if (not run) or run.status ~= 'running' or run.token ~= c.token or run.key ~= c.key then
    out[i] = { s = 'stale', run = run or NULL }
  elseif c.status == 'skipped' then
    -- Its handler was not called (paused, disabled or removed before the instant): a skipped record,
    -- no failure; the state gives back what the claim counted.
    run.status = 'skipped'
    run.skipReason = c.reason
    run.finishedAt = c.finishedAt
    run.durationMs = 0
    run.leaseExpiresAt = NULL
    run.message = c.message
    run.error = NULL
    run.stack = NULL
    put_run(c.ce, run)
    local state, created = finish_state(c.ce, run, c.finishedAt)
    if state then
      if state.lastSkippedSlotAt == nil or state.lastSkippedSlotAt == NULL or state.lastSkippedSlotAt <= run.slotAt then
        state.lastSkippedSlotAt = run.slotAt
        state.lastSkipReason = c.reason
      end
      state.totalRuns = math.max(0, (state.totalRuns or 0) - 1)
      if run.trigger == 'schedule' and run.attempt == 1 then state.scheduledRuns = math.max(0, (state.scheduledRuns or 0) - 1) end
      if state.updatedAt == nil or state.updatedAt == NULL or state.updatedAt < c.finishedAt then state.updatedAt = c.finishedAt end
      put_state(c.ce, state, created)
    end
    redis.call('ZREM', gk('leases'), run.id)
    redis.call('ZADD', gk('finished'), run.finishedAt, run.id)
    remove_active(c.ce, run.key, run.n)
    out[i] = { s = 'completed', run = run, state = state or NULL }
  else
    run.status = c.status
    run.finishedAt = c.finishedAt
    run.durationMs = math.max(0, c.finishedAt - run.startedAt)
    run.leaseExpiresAt = NULL
    if c.message ~= NULL then run.message = c.message end
    run.error = c.error
    run.stack = c.stack
    put_run(c.ce, run)
    local state, created = finish_state(c.ce, run, c.finishedAt)
    finish(c.ce, run, state)
    if state then put_state(c.ce, state, created) end
    out[i] = { s = 'completed', run = run, state = state or NULL }
  end
end
return cjson.encode(out)
`;

/** Request `{ items: [{ ce, n, key, token, expiresAt }] }`; answers the renewed run (its `cancelRequested` included) or false per item. */
export const RENEW_LUA = `
local bad = check_batch(req.items)
if bad then return redis.error_reply(bad) end
local out = {}
for i, c in ipairs(req.items) do
  local run = get_run(c.ce, c.n)
  if run and run.status == 'running' and run.token == c.token and run.key == c.key then
    run.leaseExpiresAt = c.expiresAt
    put_run(c.ce, run)
    redis.call('ZADD', gk('leases'), c.expiresAt, run.id)
    out[i] = run
  else
    out[i] = false
  end
end
return cjson.encode(out)
`;

/**
 * One shard's reap. Request `{ now, limit, expired, dead, scan }`: interrupts up to limit running runs
 * among `expired` (ids the store read from the shard's leases, oldest expiry first) whose lease
 * expired, then (with `dead`, runner id -> last heartbeat of the dead runners) those of dead runners
 * among `scan` (the shard's leases); answers `{ out: [{ run, state }], full }` (`full`: the limit cut the scan short).
 */
export const REAP_LUA = `
local bad = check_globals()
if bad then return redis.error_reply(bad) end
local now = req.now
local out = {}
for _, id in ipairs(req.expired) do
  if #out >= req.limit then break end
  local score = redis.call('ZSCORE', gk('leases'), id)
  if score and tonumber(score) <= now then
    local n, ce = split_id(id)
    bad = check_job(ce)
    if bad then return redis.error_reply(bad) end
    redis.call('ZREM', gk('leases'), id)
    local run = get_run(ce, n)
    if run and run.status == 'running' and run.leaseExpiresAt ~= NULL and run.leaseExpiresAt <= now then
      local state, created = finish_state(ce, run, now)
      interrupt(ce, run, state, now, 'interrupted: its lease expired without renewal (runner ' .. run.runnerId .. ' stopped or lost the store)')
      if state then put_state(ce, state, created) end
      out[#out + 1] = { run = run, state = state or NULL }
    end
  end
end
`;

/** The reap script's answer, after the dead runners' part (see runners.ts). */
export const REAP_TAIL_LUA = `
if #out == 0 then return cjson.encode({ out = 'none', full = full }) end
return cjson.encode({ out = out, full = full })
`;
