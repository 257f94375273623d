/**
 * Runner presence: a record per runner in the `runners` hash (`runnerexp` orders them by heartbeat
 * expiry) and, bound to the connection, a subscription of the runner's presence channel. Redis
 * drops a client's subscriptions the moment its connection closes (the process died), so
 * `PUBSUB NUMSUB` answers 0 from then on; a live but stalled process keeps its subscription.
 */

/** Shared by the runner script and the reap script: a record with `connected` and `alive` as of `now`. */
export const RUNNERS_PRELUDE = `
-- An epoch millisecond instant as ISO 8601 UTC (Howard Hinnant's civil_from_days).
local function iso(ms)
  local secs = math.floor(ms / 1000)
  local days = math.floor(secs / 86400)
  local rem = secs - days * 86400
  local z = days + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local d = doy - math.floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400 + (m <= 2 and 1 or 0)
  return string.format('%04d-%02d-%02dT%02d:%02d:%02d.%03dZ', y, m, d, math.floor(rem / 3600), math.floor(rem % 3600 / 60), rem % 60, ms - secs * 1000)
end
-- On a Cluster PUBSUB NUMSUB counts one node's subscribers only, so presence is the heartbeat alone there (T ~= '').
local function presence_of(id)
  if T ~= '' then return false end
  local counts = redis.call('PUBSUB', 'NUMSUB', P .. ':#:presence:' .. id)
  return tonumber(counts[2]) > 0
end
local function runner_view(record, now)
  if T ~= '' then
    record.connected = NULL
    record.alive = record.expiresAt > now
  else
    record.connected = presence_of(record.runnerId)
    record.alive = record.expiresAt > now or record.connected
  end
  return record
end
`;

/**
 * Request `{ op: 'beat', runnerId, now, ttlMs, startedAt, clockOffsetMs, retention }` (answers the
 * record), `{ op: 'list', now }` (answers every record, by id), `{ op: 'dead', now }` (answers
 * runner id -> last heartbeat of the dead runners not yet released, or false) or `{ op: 'release', ids }`.
 */
export const RUNNERS_LUA = `
local bad = check_meta()
if bad then return redis.error_reply(bad) end
local now = req.now
if req.op == 'dead' then
  local dead = {}
  local any = false
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', gk('runnerexp'), '-inf', string.format('%d', now))) do
    local raw = redis.call('HGET', gk('runners'), id)
    if raw then
      local record = cjson.decode(raw)
      if record.released ~= true and not presence_of(id) then
        dead[id] = record.lastHeartbeatAt
        any = true
      end
    end
  end
  if not any then return 'false' end
  return cjson.encode(dead)
end
if req.op == 'release' then
  for _, id in ipairs(req.ids) do
    local raw = redis.call('HGET', gk('runners'), id)
    if raw then
      local record = cjson.decode(raw)
      record.released = true
      redis.call('HSET', gk('runners'), id, cjson.encode(record))
    end
  end
  return 'true'
end
if req.op == 'beat' then
  local old = redis.call('ZRANGEBYSCORE', gk('runnerexp'), '-inf', string.format('(%d', now - req.retention))
  for _, id in ipairs(old) do
    redis.call('HDEL', gk('runners'), id)
    redis.call('ZREM', gk('runnerexp'), id)
  end
  local record = {
    runnerId = req.runnerId, startedAt = req.startedAt, lastHeartbeatAt = now, expiresAt = now + req.ttlMs,
    clockOffsetMs = req.clockOffsetMs, released = false,
  }
  redis.call('HSET', gk('runners'), req.runnerId, cjson.encode(record))
  redis.call('ZADD', gk('runnerexp'), record.expiresAt, req.runnerId)
  return cjson.encode(runner_view(record, now))
end
local out = {}
local all = redis.call('HGETALL', gk('runners'))
for i = 1, #all, 2 do out[#out + 1] = runner_view(cjson.decode(all[i + 1]), now) end
table.sort(out, function(a, b) return a.runnerId < b.runnerId end)
if #out == 0 then return '[]' end
return cjson.encode(out)
`;

/**
 * Appended to the reap script: interrupts the running runs of dead runners (`req.dead`, found by the
 * runners script's `dead` op: heartbeat expired, presence channel without subscriber) among the
 * shard's leases, up to the limit left. When the limit did not cut it short (`full` false) in any
 * shard, the store marks those runners released, so later reaps do not scan the leases for them again.
 */
export const REAP_RUNNERS_LUA = `
local full = false
if req.dead ~= NULL then
  for _, id in ipairs(req.scan) do
    if #out >= req.limit then full = true break end
    if redis.call('ZSCORE', gk('leases'), id) then
      local n, ce = split_id(id)
      bad = check_job(ce)
      if bad then return redis.error_reply(bad) end
      local run = get_run(ce, n)
      local last = run and run.status == 'running' and req.dead[run.runnerId]
      if last then
        local state, created = finish_state(ce, run, now)
        interrupt(ce, run, state, now, 'interrupted: runner "' .. run.runnerId .. '" is dead (last heartbeat ' .. iso(last) .. ', its connection closed)')
        if state then put_state(ce, state, created) end
        out[#out + 1] = { run = run, state = state or NULL }
      end
    end
  end
end
`;
