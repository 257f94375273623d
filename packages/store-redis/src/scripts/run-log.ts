/** Run-log pruning (queries are plain reads: see store.ts). */

/**
 * Request `{ olderThan, ids }`: of `ids` (read by the store from the shard's finished index), deletes
 * the finished runs that finished before olderThan. Answers `{ deleted }`.
 */
export const PRUNE_LUA = `
local bad = check_globals()
if bad then return redis.error_reply(bad) end
local deleted = 0
for _, id in ipairs(req.ids) do
  local score = redis.call('ZSCORE', gk('finished'), id)
  if score and tonumber(score) < req.olderThan then
    local n, ce = split_id(id)
    bad = check_job(ce)
    if bad then return redis.error_reply(bad) end
    redis.call('ZREM', gk('finished'), id)
    local run = get_run(ce, n)
    if run and run.status ~= 'running' and run.status ~= 'waiting' then
      redis.call('HDEL', jk(ce, 'runs'), n)
      redis.call('ZREM', jk(ce, 'index'), run.member)
      redis.call('ZREM', gk('index'), run.member)
      if redis.call('HGET', jk(ce, 'claims'), run.cf) == n then redis.call('HDEL', jk(ce, 'claims'), run.cf) end
      deleted = deleted + 1
    end
  end
end
return cjson.encode({ deleted = deleted })
`;
