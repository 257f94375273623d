/**
 * Partition leases: the `partitions` hash (partition → `{ o: owner or null, e: expiry, t: token }`)
 * and the `partmembers` hash (runner id → membership expiry), both meta keys (one slot on a
 * Cluster). The rule is core's `planPartitionLease`, applied here in one script so the server
 * decides every hand-over atomically.
 */

/**
 * Request `{ op: 'lease', runnerId, now, ttlMs, limit, count }` (answers the leases) or `{ op: 'release', runnerId,
 * count }` (answers how many were held).
 */
export const PARTITIONS_LUA = `
local bad = check_meta()
if bad then return redis.error_reply(bad) end
local COUNT = req.count
local function load_slots()
  local slots = {}
  for p = 0, COUNT - 1 do slots[p] = { o = NULL, e = 0, t = 0 } end
  local all = redis.call('HGETALL', gk('partitions'))
  for i = 1, #all, 2 do slots[tonumber(all[i])] = cjson.decode(all[i + 1]) end
  return slots
end
local function put(p, s) redis.call('HSET', gk('partitions'), tostring(p), cjson.encode(s)) end
local runner = req.runnerId
local slots = load_slots()
if req.op == 'release' then
  redis.call('HDEL', gk('partmembers'), runner)
  local n = 0
  for p = 0, COUNT - 1 do
    local s = slots[p]
    if s.o == runner then
      s.o = NULL
      s.e = 0
      put(p, s)
      n = n + 1
    end
  end
  return tostring(n)
end
local now = req.now
local expires = now + req.ttlMs
local members = redis.call('HGETALL', gk('partmembers'))
local runners = 1
for i = 1, #members, 2 do
  if members[i] ~= runner then
    if tonumber(members[i + 1]) <= now then redis.call('HDEL', gk('partmembers'), members[i]) else runners = runners + 1 end
  end
end
redis.call('HSET', gk('partmembers'), runner, string.format('%d', expires))
local share = math.min(math.ceil(COUNT / runners), req.limit)
local held = {}
for p = 0, COUNT - 1 do
  if slots[p].o == runner then held[#held + 1] = p end
end
while #held > share do
  local p = table.remove(held)
  local s = slots[p]
  s.o = NULL
  s.e = 0
  put(p, s)
end
for p = 0, COUNT - 1 do
  if #held >= share then break end
  local s = slots[p]
  if s.o ~= runner and (s.o == NULL or s.e <= now) then
    s.o = runner
    s.t = s.t + 1
    held[#held + 1] = p
  end
end
table.sort(held)
local out = {}
for _, p in ipairs(held) do
  local s = slots[p]
  s.e = expires
  put(p, s)
  out[#out + 1] = p .. ':' .. string.format('%d', s.t)
end
return cjson.encode({ partitions = table.concat(out, ','), expiresAt = expires, runners = runners, share = share })
`;
