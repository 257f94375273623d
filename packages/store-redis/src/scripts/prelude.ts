/**
 * Lua shared by every script. Scripts get the key prefix as ARGV[1], a JSON request as ARGV[2]
 * and the layout as ARGV[3..6] (see below), every key they touch in KEYS, and answer JSON. Before
 * the first write, every key a script touches is checked to hold the expected Redis type, so a
 * foreign key under the prefix fails the call with a reply naming it and nothing is overwritten.
 */
export const PRELUDE = `
local P = ARGV[1]
local req = cjson.decode(ARGV[2])
local NULL = cjson.null
-- The layout (keys.ts): T is the hash tag of this call's shard on a Cluster ('' on a single node,
-- where each job keeps its own tag), M the meta keys' tag; S this shard, of SHARDS.
local T, M = ARGV[3], ARGV[4]
local S, SHARDS = tonumber(ARGV[5]), tonumber(ARGV[6])
-- Every key a script touches comes in KEYS; naming one that did not is a bug, failed before any use of it.
local declared = {}
for _, k in ipairs(KEYS) do declared[k] = true end
local function use(name)
  if not declared[name] then error('TICKWORK_UNDECLARED key=' .. string.gsub(name, '%c', '?')) end
  return name
end
local META_KINDS = {
  runners = true, runnerexp = true, maintenance = true, audit = true, auditat = true, auditrow = true, auditseq = true, tokens = true,
  partitions = true, partmembers = true,
}
local function jk(ce, kind)
  if T == '' then return use(P .. ':{' .. ce .. '}:' .. kind) end
  return use(P .. ':' .. T .. ':' .. ce .. ':' .. kind)
end
local function gk(kind)
  if T == '' and M == '' then return use(P .. ':#:' .. kind) end
  if META_KINDS[kind] then return use(P .. ':' .. M .. ':#:' .. kind) end
  return use(P .. ':' .. T .. ':#:' .. kind)
end
local function sk(ce, key)
  if T == '' then return use(P .. ':{' .. ce .. '}:schedule:' .. key) end
  return use(P .. ':' .. T .. ':' .. ce .. ':schedule:' .. key)
end
-- JavaScript's encodeURIComponent, which names a job's keys (see keys.ts).
local function encode_code(code)
  return (string.gsub(code, "[^A-Za-z0-9%-_%.!~%*'%(%)]", function(ch) return string.format('%%%02X', string.byte(ch)) end))
end
local JOB_TYPES = { states = 'hash', claims = 'hash', runs = 'hash', active = 'hash', waiting = 'hash', seq = 'string', index = 'zset' }
local GLOBAL_TYPES = {
  codes = 'set', index = 'zset', leases = 'zset', finished = 'zset', requests = 'zset', request = 'hash', reqseq = 'string',
  schedules = 'zset', schedparts = 'zset', schedseq = 'string', schedrev = 'hash',
}
local META_TYPES = { runners = 'hash', runnerexp = 'zset', partitions = 'hash', partmembers = 'hash' }
local checked = {}
-- A key name as an error reply can carry it (a reply line cannot hold control characters).
local function shown(key) return (string.gsub(key, '%c', '?')) end
local function check(key, expected)
  if checked[key] then return nil end
  local t = redis.call('TYPE', key)['ok']
  if t ~= 'none' and t ~= expected then
    return 'TICKWORK_WRONGTYPE key=' .. shown(key) .. ' type=' .. t .. ' expected=' .. expected
  end
  checked[key] = true
  return nil
end
local function check_globals()
  for kind, t in pairs(GLOBAL_TYPES) do
    local bad = check(gk(kind), t)
    if bad then return bad end
  end
  return nil
end
local function check_meta()
  for kind, t in pairs(META_TYPES) do
    local bad = check(gk(kind), t)
    if bad then return bad end
  end
  return nil
end
local function check_job(ce)
  for kind, t in pairs(JOB_TYPES) do
    local bad = check(jk(ce, kind), t)
    if bad then return bad end
  end
  return nil
end
-- Every key a batch will touch, checked before its first write: a foreign key fails the whole batch, changing nothing.
local function check_batch(items)
  local bad = check_globals()
  if bad then return bad end
  for _, c in ipairs(items) do
    bad = check_job(c.ce)
    if bad then return bad end
  end
  return nil
end
-- The gate a claim of a runtime schedule passes: false when it does not exist, else { enabled, version }.
-- A foreign or damaged hash is an error naming it, so a claim batch fails before its first write.
local function schedule_gate(ce, key)
  local name = sk(ce, key)
  local f = redis.pcall('HMGET', name, 'enabled', 'version')
  if f.err then return nil, check(name, 'hash') or f.err end
  if not f[1] and not f[2] then return false, nil end
  if (f[1] ~= '0' and f[1] ~= '1') or not f[2] or not string.match(f[2], '^%d+$') then
    return nil, 'TICKWORK_CORRUPT key=' .. shown(name) .. ' why=its enabled is "' .. shown(tostring(f[1])) .. '" and its version "'
      .. shown(tostring(f[2])) .. '"; expected 0 or 1, and an integer'
  end
  return { enabled = f[1] == '1', version = tonumber(f[2]) }, nil
end
local function pad12(n) return string.format('%012d', n) end
-- The next value of a counter (run numbers = fencing tokens, request ids, schedule versions).
-- A missing counter — a new prefix, or a Redis that lost its data — starts from the server
-- clock in epoch ms, so every id issued after a data loss is larger than any issued before it
-- (runners still hold those: a lease, a schedule version) unless one counter issued more than
-- one id per millisecond on average.
local function next_id(key)
  local n = redis.call('INCR', key)
  if n == 1 then
    local t = redis.call('TIME')
    n = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
    redis.call('SET', key, string.format('%d', n))
  end
  return n
end

-- Run-now requests. A request's member is <requestedAt 15 digits>:<id 12 digits> (lex order = request order):
-- in G:requests (every job's), J:requests (its job's) and, after <key> NUL, in J:reqrefs (so one schedule's
-- requests are one lex range); its JSON is field <id> of G:request. All four change together.
local function check_requests(ce)
  return check(jk(ce, 'requests'), 'zset') or check(jk(ce, 'reqrefs'), 'zset')
end
-- The lex range of one schedule's members in J:reqrefs (keys hold no NUL, so <key> NUL prefixes only its own).
local function ref_range(key) return '[' .. key .. '\\0', '(' .. key .. '\\1' end
local function file_request(ce, request, m)
  redis.call('HSET', gk('request'), request.id, cjson.encode(request))
  redis.call('ZADD', gk('requests'), 0, m)
  redis.call('ZADD', jk(ce, 'requests'), 0, m)
  redis.call('ZADD', jk(ce, 'reqrefs'), 0, request.key .. '\\0' .. m)
end
local function drop_request(ce, key, m, id)
  redis.call('ZREM', gk('requests'), m)
  redis.call('ZREM', jk(ce, 'requests'), m)
  redis.call('ZREM', jk(ce, 'reqrefs'), key .. '\\0' .. m)
  redis.call('HDEL', gk('request'), id)
end
-- The id a member names (its 12 digits without the padding).
local function member_id(m) return string.format('%d', tonumber(string.match(m, ':(%d+)$'))) end
local function split_id(id)
  local dot = string.find(id, '.', 1, true)
  return string.sub(id, 1, dot - 1), string.sub(id, dot + 1)
end
local function publish(kind, code, key)
  redis.call('PUBLISH', P .. ':#:changes', cjson.encode({ type = kind, code = code, key = key }))
end

local function initial_state(code, key, now)
  return {
    code = code, key = key, paused = false, pausedNote = NULL, resumedAt = NULL, scheduleOverride = NULL,
    lastSlotAt = NULL, lastStatus = NULL, lastFinishedAt = NULL, lastAttempt = NULL, lastFinishedSlotAt = NULL, waitingSlotAt = NULL,
    consecutiveFailures = 0, totalRuns = 0, scheduledRuns = 0, createdAt = now, updatedAt = now,
  }
end
local function get_state(ce, code, key, now)
  local raw = redis.call('HGET', jk(ce, 'states'), key)
  if raw then return cjson.decode(raw), false end
  return initial_state(code, key, now), true
end
local function put_state(ce, state, created)
  redis.call('HSET', jk(ce, 'states'), state.key, cjson.encode(state))
  if created then redis.call('SADD', gk('codes'), state.code) end
end

local function get_run(ce, n)
  local raw = redis.call('HGET', jk(ce, 'runs'), n)
  if raw then return cjson.decode(raw) end
  return nil
end
local function put_run(ce, run)
  redis.call('HSET', jk(ce, 'runs'), tostring(run.n), cjson.encode(run))
end

-- J:active and J:waiting: schedule key -> the numbers of its running (waiting) runs, space-separated.
local function run_list(ce, kind, key)
  local raw = redis.call('HGET', jk(ce, kind), key)
  local list = {}
  if raw then for ns in string.gmatch(raw, '%d+') do list[#list + 1] = ns end end
  return list
end
local function set_list(ce, kind, key, list)
  if #list == 0 then redis.call('HDEL', jk(ce, kind), key)
  else redis.call('HSET', jk(ce, kind), key, table.concat(list, ' ')) end
end
local function add_to_list(ce, kind, key, n)
  local list = run_list(ce, kind, key)
  list[#list + 1] = tostring(n)
  set_list(ce, kind, key, list)
end
local function remove_from_list(ce, kind, key, n)
  local keep = {}
  local ns = tostring(n)
  for _, x in ipairs(run_list(ce, kind, key)) do
    if x ~= ns then keep[#keep + 1] = x end
  end
  set_list(ce, kind, key, keep)
end
-- Whether run number ns is in one of those lists (without splitting it).
local function in_list(ce, kind, key, ns)
  local raw = redis.call('HGET', jk(ce, kind), key)
  return raw ~= false and raw ~= nil and string.find(' ' .. raw .. ' ', ' ' .. ns .. ' ', 1, true) ~= nil
end
local function active_list(ce, key) return run_list(ce, 'active', key) end
local function remove_active(ce, key, n) remove_from_list(ce, 'active', key, n) end
-- The waiting runs of one schedule, oldest slot first (then run number).
local function waiting_runs(ce, key)
  local runs = {}
  for _, ns in ipairs(run_list(ce, 'waiting', key)) do
    local run = get_run(ce, ns)
    if run then runs[#runs + 1] = run end
  end
  table.sort(runs, function(a, b) return a.slotAt < b.slotAt or (a.slotAt == b.slotAt and a.n < b.n) end)
  return runs
end
-- Keeps the state's waitingSlotAt the oldest waiting slot (state may be nil: a removed runtime schedule).
local function note_waiting(ce, key, state)
  if not state then return end
  local first = waiting_runs(ce, key)[1]
  if first then state.waitingSlotAt = first.slotAt else state.waitingSlotAt = NULL end
end

-- The state a finished run updates: a runtime schedule's state only while it exists (a removed
-- schedule's run is still recorded, but a state rebuilt from one run would be a partial one).
local function finish_state(ce, run, now)
  if run.key ~= '' and redis.call('HEXISTS', jk(ce, 'states'), run.key) == 0 then return nil, false end
  return get_state(ce, run.code, run.key, now)
end

-- A run left 'running': record it in the schedule's state (if any) as a completion would, and release its lease.
local function finish(ce, run, state)
  if state then
    state.lastStatus = run.status
    state.lastFinishedAt = run.finishedAt
    state.lastAttempt = run.attempt
    state.lastFinishedSlotAt = run.slotAt
    -- The streak and dead-man fields (absent in states written before them: nil reads as null).
    if run.status == 'succeeded' then
      state.endedStreak = state.consecutiveFailures
      if state.consecutiveFailures > 0 and state.failingSince ~= nil then state.endedStreakStartedAt = state.failingSince
      else state.endedStreakStartedAt = NULL end
      state.endedOverdueAlertedAt = state.overdueAlertedAt or NULL
      state.overdueAlertedAt = NULL
      state.failingSince = NULL
      state.lastSucceededAt = run.finishedAt
      state.consecutiveFailures = 0
    else
      if state.consecutiveFailures == 0 then state.failingSince = run.finishedAt end
      state.endedStreak = 0
      state.endedStreakStartedAt = NULL
      state.endedOverdueAlertedAt = NULL
      state.consecutiveFailures = state.consecutiveFailures + 1
    end
    state.updatedAt = run.finishedAt
  end
  redis.call('ZREM', gk('leases'), run.id)
  redis.call('ZADD', gk('finished'), run.finishedAt, run.id)
  remove_active(ce, run.key, run.n)
end
local function interrupt(ce, run, state, now, why)
  run.status = 'interrupted'
  run.finishedAt = now
  run.durationMs = math.max(0, now - run.startedAt)
  run.leaseExpiresAt = NULL
  run.message = why
  put_run(ce, run)
  finish(ce, run, state)
end
`;

/**
 * For the scripts that take no prelude (their KEYS are states hashes only, their ARGV a plain list):
 * fails the call, naming the key, when any of KEYS holds something other than a hash, before
 * anything is read or written. The same reply as the prelude's `check`.
 */
export const KEYS_ARE_HASHES = `
for _, k in ipairs(KEYS) do
  local t = redis.call('TYPE', k)['ok']
  if t ~= 'none' and t ~= 'hash' then
    return redis.error_reply('TICKWORK_WRONGTYPE key=' .. (string.gsub(k, '%c', '?')) .. ' type=' .. t .. ' expected=hash')
  end
end
`;
