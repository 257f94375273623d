/**
 * "Run now" requests: a lexicographic sorted set ordered by (requestedAt, sequence) and a
 * hash of the requests. Request `{ op: 'request', code, key, now, pad, requestedBy }`,
 * `{ op: 'consume', codes, limit }` or `{ op: 'pending', codes }`.
 */
export const REQUESTS_LUA = `
local bad = check_globals()
if bad then return redis.error_reply(bad) end
if req.op == 'request' then
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
      if (not want) or want[request.code] then
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
