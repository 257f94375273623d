/** Run-log reads and pruning. */

/**
 * Request `{ ce, key, statuses, reasons, from, before, cursor, limit, cap }`: walks the job's (or the
 * global) lexicographic index newest first, filtering by key and status, examining at most
 * `cap` entries so one query never blocks Redis for long; a page cut short by the cap still
 * carries a cursor. Answers `{ runs, next }`.
 */
export const QUERY_LUA = `
local idx = gk('index')
if req.ce ~= NULL then idx = jk(req.ce, 'index') end
local max = '+'
if req.cursor ~= NULL then max = '(' .. req.cursor elseif req.before ~= NULL then max = '(' .. req.before end
local min = '-'
if req.from ~= NULL then min = '[' .. req.from end
local wanted = nil
if req.statuses ~= NULL then
  wanted = {}
  for _, s in ipairs(req.statuses) do wanted[s] = true end
end
local reasons = nil
if req.reasons ~= NULL then
  reasons = {}
  for _, r in ipairs(req.reasons) do reasons[r] = true end
end
-- A skipped run written before skip reasons is an overlap skip.
local function reason_ok(run)
  if not reasons then return true end
  if run.status ~= 'skipped' then return false end
  local reason = run.skipReason
  if reason == nil or reason == NULL then reason = 'overlap' end
  return reasons[reason] == true
end
local out = {}
local examined = 0
local last = NULL
local more = false
while not more do
  local members = redis.call('ZRANGE', idx, max, min, 'BYLEX', 'REV', 'LIMIT', 0, 200)
  if #members == 0 then break end
  for _, m in ipairs(members) do
    max = '(' .. m
    local nstr, ce = string.match(m, '^%d+:(%d+):(.*)$')
    local run = nil
    if nstr then run = get_run(ce, tostring(tonumber(nstr))) end
    if run and (req.key == NULL or run.key == req.key) and ((not wanted) or wanted[run.status]) and reason_ok(run) then
      if #out >= req.limit then more = true break end
      out[#out + 1] = run
      last = m
    end
    examined = examined + 1
    if examined >= req.cap then
      last = m
      more = true
      break
    end
  end
end
if not more then last = NULL end
if #out == 0 then return cjson.encode({ runs = 'none', next = last }) end
return cjson.encode({ runs = out, next = last })
`;

/** Request `{ olderThan, batch }`: deletes up to `batch` finished runs that finished before olderThan. Answers `{ deleted, scanned }`. */
export const PRUNE_LUA = `
local bad = check_globals()
if bad then return redis.error_reply(bad) end
local ids = redis.call('ZRANGEBYSCORE', gk('finished'), '-inf', '(' .. string.format('%d', req.olderThan), 'LIMIT', 0, req.batch)
local deleted = 0
for _, id in ipairs(ids) do
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
return cjson.encode({ deleted = deleted, scanned = #ids })
`;
