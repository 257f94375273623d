/**
 * Runtime schedules. Each is one hash under its job's hash tag, `P:{ce}:schedule:<key>`, with
 * the canonical `definition` text, `enabled` ('1' / '0', so a claim checks it without decoding
 * JSON), `version`, `createdAt` and `updatedAt` (epoch ms); `G:schedules` indexes them all as
 * `code NUL key` (score 0, so lex order is (code, key)); `G:schedseq` hands out versions and
 * `G:schedrev` (`epoch`, `n`) is the revision every create, change and removal moves.
 *
 * Requests: `{ op: 'upsert', now, epoch, items: [{ ce, code, key, def, enabled }] }` answers
 * `[{ v, c, u }]`; `{ op: 'remove', epoch, items: [{ ce, code, key }] }` answers whether each
 * existed; `{ op: 'get', items }` answers a row `{ code, key, k, def, en, v, c, u }` or false per
 * item. Lists read `G:schedules` of every shard and then get the rows (store.ts).
 *
 * `G:schedparts` indexes them by partition (issue #23: `listSchedules({ partitions })`): member
 * `ppp code NUL key` (ppp: core's `partitionOf(code, key)`, three digits; score 0, so lex order is
 * (partition, code, key)). The partition is FNV-1a of the bytes of `code NUL key` (codes and keys
 * are ASCII, so bytes are UTF-16 units). `G:schedrev` field `parts` is the revision `n` the index
 * is whole at: every change of this version moves it with `n` when they were equal; an older
 * release moves `n` alone, and `{ op: 'index' }` (run by a partitioned list that finds them
 * apart) rebuilds the index from `G:schedules` and sets `parts` to `n`.
 */
export const SCHEDULES_LUA = `
-- A schedule hash as stored, nil when it does not exist, or an error naming a foreign or damaged key.
local function read_schedule(ce, key)
  local name = sk(ce, key)
  local f = redis.pcall('HMGET', name, 'definition', 'enabled', 'version', 'createdAt', 'updatedAt')
  if f.err then return nil, check(name, 'hash') or f.err end
  if not (f[1] or f[2] or f[3] or f[4] or f[5]) then return nil, nil end
  local ok = type(f[1]) == 'string' and (f[2] == '0' or f[2] == '1')
  for j = 3, 5 do ok = ok and f[j] and string.match(f[j], '^%d+$') ~= nil end
  if not ok then
    return nil, 'TICKWORK_CORRUPT key=' .. shown(name) .. ' why=it is not a schedule hash as this version writes it: definition, enabled 0 or 1, integer version, createdAt and updatedAt'
  end
  return { def = f[1], enabled = f[2], version = tonumber(f[3]), createdAt = tonumber(f[4]), updatedAt = tonumber(f[5]) }, nil
end
local function row_of(ce, code, key, s)
  return { code = code, key = key, k = sk(ce, key), def = s.def, en = s.enabled, v = s.version, c = s.createdAt, u = s.updatedAt }
end
-- The G:schedparts member of a G:schedules member.
local function part_member(member)
  local h = 2166136261
  for i = 1, #member do
    h = bit.bxor(h, string.byte(member, i)) % 4294967296
    -- h * 16777619 mod 2^32 as h * 2^24 + h * 403, exactly (doubles hold 53 bits).
    h = (bit.lshift(h, 24) % 4294967296 + h * 403) % 4294967296
  end
  return string.format('%03d', h % 256) .. member
end
local function bump_revision()
  redis.call('HSETNX', gk('schedrev'), 'epoch', req.epoch)
  local was = redis.call('HGET', gk('schedrev'), 'n')
  local n = redis.call('HINCRBY', gk('schedrev'), 'n', 1)
  -- The partition index stays whole while every writer keeps it.
  if redis.call('HGET', gk('schedrev'), 'parts') == was then redis.call('HSET', gk('schedrev'), 'parts', n) end
end
local function ms(n) return string.format('%d', n) end

if req.op == 'get' then
  local out = {}
  for i, c in ipairs(req.items) do
    local s, why = read_schedule(c.ce, c.key)
    if why then return redis.error_reply(why) end
    if s then out[i] = row_of(c.ce, c.code, c.key, s) else out[i] = false end
  end
  return cjson.encode(out)
end

local bad = check_globals()
if bad then return redis.error_reply(bad) end

if req.op == 'index' then
  local members = redis.call('ZRANGE', gk('schedules'), 0, -1)
  redis.call('DEL', gk('schedparts'))
  for i = 1, #members, 1000 do
    local args = {}
    for j = i, math.min(i + 999, #members) do
      args[#args + 1] = 0
      args[#args + 1] = part_member(members[j])
    end
    redis.call('ZADD', gk('schedparts'), unpack(args))
  end
  local n = redis.call('HGET', gk('schedrev'), 'n')
  if n then redis.call('HSET', gk('schedrev'), 'parts', n) else redis.call('HDEL', gk('schedrev'), 'parts') end
  return cjson.encode(#members)
end

if req.op == 'upsert' then
  local now = req.now
  -- Reads first: every key's type and every stored value this call depends on, so a foreign or
  -- damaged key fails the whole call before its first write.
  local stored, resumed = {}, {}
  for i, c in ipairs(req.items) do
    local states = jk(c.ce, 'states')
    bad = check(states, 'hash')
    if bad then return redis.error_reply(bad) end
    local old, why = read_schedule(c.ce, c.key)
    if why then return redis.error_reply(why) end
    stored[i] = old
    if old and old.def ~= c.def and old.enabled == '0' and c.enabled then
      local raw = redis.call('HGET', states, c.key)
      if raw then
        local ok, state = pcall(cjson.decode, raw)
        if not ok or type(state) ~= 'table' then
          return redis.error_reply('TICKWORK_CORRUPT key=' .. states .. ' why=its field ' .. c.key .. ' is not the JSON state this version writes')
        end
        resumed[i] = state
      end
    end
  end
  local out = {}
  local changed = false
  for i, c in ipairs(req.items) do
    local old = stored[i]
    if old and old.def == c.def then
      out[i] = { v = old.version, c = old.createdAt, u = old.updatedAt }
    else
      local v = next_id(gk('schedseq'))
      local createdAt = now
      if old then createdAt = old.createdAt end
      redis.call('HSET', sk(c.ce, c.key), 'definition', c.def, 'enabled', c.enabled and '1' or '0', 'version', ms(v),
        'createdAt', ms(createdAt), 'updatedAt', ms(now))
      if not old then
        redis.call('ZADD', gk('schedules'), 0, c.code .. '\\0' .. c.key)
        redis.call('ZADD', gk('schedparts'), 0, part_member(c.code .. '\\0' .. c.key))
        -- A new schedule starts from a fresh state, whatever an earlier one of that key left.
        put_state(c.ce, initial_state(c.code, c.key, now), true)
      elseif resumed[i] then
        -- Enabling is resuming: slots missed while disabled are not caught up.
        resumed[i].resumedAt = now
        resumed[i].updatedAt = now
        put_state(c.ce, resumed[i], false)
      end
      publish('schedule', c.code, c.key)
      changed = true
      out[i] = { v = v, c = createdAt, u = now }
    end
  end
  if changed then bump_revision() end
  return cjson.encode(out)
end

-- remove: the schedules, their states, their waiting runs and their pending run-now requests (one
-- lex range of J:reqrefs each, so other schedules' requests are not read); running runs stay.
local found, gone = {}, {}
local drop = {}
local any = false
for i, c in ipairs(req.items) do
  bad = check_job(c.ce) or check(sk(c.ce, c.key), 'hash') or check_requests(c.ce)
  if bad then return redis.error_reply(bad) end
  local id = c.code .. '\\0' .. c.key
  found[i] = (not gone[id]) and redis.call('EXISTS', sk(c.ce, c.key)) == 1
  if found[i] then
    gone[id] = true
    any = true
    local min, max = ref_range(c.key)
    for _, full in ipairs(redis.call('ZRANGE', jk(c.ce, 'reqrefs'), min, max, 'BYLEX')) do
      local m = string.sub(full, #c.key + 2)
      if not string.match(m, '^%d+:%d+$') then
        return redis.error_reply('TICKWORK_CORRUPT key=' .. shown(jk(c.ce, 'reqrefs')) .. ' why=its member ' .. shown(full) .. ' is not a run-now request member this version writes')
      end
      drop[#drop + 1] = { ce = c.ce, key = c.key, m = m }
    end
  end
end
for i, c in ipairs(req.items) do
  if found[i] then
    redis.call('DEL', sk(c.ce, c.key))
    redis.call('HDEL', jk(c.ce, 'states'), c.key)
    -- Its waiting runs go with it (record, claim record, index members): nothing would ever start them.
    for _, w in ipairs(waiting_runs(c.ce, c.key)) do
      redis.call('HDEL', jk(c.ce, 'runs'), tostring(w.n))
      redis.call('HDEL', jk(c.ce, 'claims'), w.cf)
      redis.call('ZREM', jk(c.ce, 'index'), w.member)
      redis.call('ZREM', gk('index'), w.member)
    end
    redis.call('HDEL', jk(c.ce, 'waiting'), c.key)
    redis.call('ZREM', gk('schedules'), c.code .. '\\0' .. c.key)
    redis.call('ZREM', gk('schedparts'), part_member(c.code .. '\\0' .. c.key))
    publish('schedule', c.code, c.key)
  end
end
for _, d in ipairs(drop) do drop_request(d.ce, d.key, d.m, member_id(d.m)) end
if any then bump_revision() end
return cjson.encode(found)
`;
