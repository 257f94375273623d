/**
 * "Run now" requests: a lexicographic sorted set ordered by (requestedAt, sequence) and a
 * hash of the requests. Request `{ op: 'request', ce, code, key, now, pad, requestedBy }`
 * (answers `{ missing = true }` for a runtime schedule that does not exist, filing nothing),
 * or `{ op: 'consume' | 'pending', codes, refs: [{ code, key }], limit }` (null filters and
 * limit mean all).
 */
export const REQUESTS_LUA = `
local bad = check_globals()
if bad then return redis.error_reply(bad) end
if req.op == 'request' then
  if req.key ~= '' then
    local gate, why = schedule_gate(req.ce, req.key)
    if why then return redis.error_reply(why) end
    if not gate then return cjson.encode({ missing = true }) end
  end
  local id = redis.call('INCR', gk('reqseq'))
  local request = { id = tostring(id), code = req.code, key = req.key, requestedAt = req.now, requestedBy = req.requestedBy }
  redis.call('HSET', gk('request'), tostring(id), cjson.encode(request))
  redis.call('ZADD', gk('requests'), 0, req.pad .. ':' .. pad12(id))
  publish('run-request', req.code, req.key)
  return cjson.encode(request)
end
local want = nil
if req.codes ~= NULL and req.codes ~= nil then
  want = {}
  for _, code in ipairs(req.codes) do want[code] = true end
end
local want_refs = nil
if req.refs ~= NULL and req.refs ~= nil then
  want_refs = {}
  for _, ref in ipairs(req.refs) do want_refs[ref.code .. '\\0' .. ref.key] = true end
end
local take = req.op == 'consume'
local limit = req.limit
local out = {}
local from = '-'
while limit == NULL or limit == nil or #out < limit do
  local members = redis.call('ZRANGE', gk('requests'), from, '+', 'BYLEX', 'LIMIT', 0, 200)
  if #members == 0 then break end
  for _, m in ipairs(members) do
    from = '(' .. m
    local id = tostring(tonumber(string.match(m, ':(%d+)$')))
    local raw = redis.call('HGET', gk('request'), id)
    if raw then
      local request = cjson.decode(raw)
      if ((not want) or want[request.code]) and ((not want_refs) or want_refs[request.code .. '\\0' .. request.key]) then
        if take then
          redis.call('ZREM', gk('requests'), m)
          redis.call('HDEL', gk('request'), id)
        end
        out[#out + 1] = request
        if limit ~= NULL and limit ~= nil and #out >= limit then break end
      end
    elseif take then
      redis.call('ZREM', gk('requests'), m)
    end
  end
end
if #out == 0 then return '[]' end
return cjson.encode(out)
`;
