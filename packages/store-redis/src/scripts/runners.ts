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
local function presence_of(id)
  local counts = redis.call('PUBSUB', 'NUMSUB', P .. ':#:presence:' .. id)
  return tonumber(counts[2]) > 0
end
local function runner_view(record, now)
  record.connected = presence_of(record.runnerId)
  record.alive = record.expiresAt > now or record.connected
  return record
end
`;

/**
 * Request `{ op: 'beat', runnerId, now, ttlMs, startedAt, clockOffsetMs, retention }` (answers the
 * record) or `{ op: 'list', now }` (answers every record, by id).
 */
export const RUNNERS_LUA = `
local bad = check_globals()
if bad then return redis.error_reply(bad) end
local now = req.now
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
 * Appended to the reap script with \`runners\`: interrupts the running runs of dead runners (heartbeat
 * expired, presence channel without subscriber), up to the limit left. A dead runner whose runs
 * were all reaped is marked released, so later reaps do not scan the leases for it again.
 */
export const REAP_RUNNERS_LUA = `
if req.runners and #out < req.limit then
  local dead = {}
  local any = false
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', gk('runnerexp'), '-inf', string.format('%d', now))) do
    local raw = redis.call('HGET', gk('runners'), id)
    if raw then
      local record = cjson.decode(raw)
      if record.released ~= true and not presence_of(id) then
        dead[id] = record
        any = true
      end
    end
  end
  if any then
    local full = false
    for _, id in ipairs(redis.call('ZRANGE', gk('leases'), 0, -1)) do
      if #out >= req.limit then full = true break end
      local n, ce = split_id(id)
      bad = check_job(ce)
      if bad then return redis.error_reply(bad) end
      local run = get_run(ce, n)
      if run and run.status == 'running' and dead[run.runnerId] then
        local record = dead[run.runnerId]
        local state, created = finish_state(ce, run, now)
        interrupt(ce, run, state, now, 'interrupted: runner "' .. run.runnerId .. '" is dead (last heartbeat ' .. iso(record.lastHeartbeatAt) .. ', its connection closed)')
        if state then put_state(ce, state, created) end
        out[#out + 1] = { run = run, state = state or NULL }
      end
    end
    if not full then
      for id, record in pairs(dead) do
        record.released = true
        redis.call('HSET', gk('runners'), id, cjson.encode(record))
      end
    end
  end
end
`;
