/**
 * The audit log and access tokens. The log: `#:auditseq` hands out ids, `#:auditrow` holds each
 * row's text by id (`<at ms> <entry JSON>`, written by the store, never parsed here, so cjson
 * cannot reshape it), `#:audit` orders ids (score = id) and `#:auditat` orders them by instant
 * for pruning. Tokens: `#:tokens`, one JSON text per id. Request fields are strings where they
 * are numbers beyond cjson's integers.
 */
export const ACCESS_LUA = `
local function check_access()
  for kind, t in pairs({ audit = 'zset', auditat = 'zset', auditrow = 'hash', auditseq = 'string', tokens = 'hash' }) do
    local bad = check(gk(kind), t)
    if bad then return bad end
  end
  return nil
end
local bad = check_access()
if bad then return redis.error_reply(bad) end
if req.op == 'append' then
  local id = redis.call('INCR', gk('auditseq'))
  redis.call('HSET', gk('auditrow'), id, req.row)
  redis.call('ZADD', gk('audit'), id, id)
  redis.call('ZADD', gk('auditat'), req.at, id)
  return cjson.encode(tostring(id))
elseif req.op == 'list' then
  local top = req.before == NULL and '+inf' or ('(' .. req.before)
  local ids = redis.call('ZREVRANGEBYSCORE', gk('audit'), top, '-inf', 'LIMIT', 0, req.limit)
  local out = {}
  for i, id in ipairs(ids) do out[i] = { id = id, row = redis.call('HGET', gk('auditrow'), id) } end
  return cjson.encode(out)
elseif req.op == 'prune' then
  local ids = redis.call('ZRANGEBYSCORE', gk('auditat'), '-inf', '(' .. req.olderThan, 'LIMIT', 0, req.batch)
  for _, id in ipairs(ids) do
    redis.call('ZREM', gk('auditat'), id)
    redis.call('ZREM', gk('audit'), id)
    redis.call('HDEL', gk('auditrow'), id)
  end
  return cjson.encode(#ids)
elseif req.op == 'add' then
  if redis.call('HEXISTS', gk('tokens'), req.id) == 1 then return cjson.encode('taken') end
  if redis.call('HLEN', gk('tokens')) >= req.max then return cjson.encode('full') end
  redis.call('HSET', gk('tokens'), req.id, req.token)
  return cjson.encode('added')
end
return redis.error_reply('TICKWORK unknown access op')
`;
