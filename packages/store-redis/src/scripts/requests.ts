/**
 * "Run now" requests, indexed three ways (see the prelude): G:requests orders every job's,
 * J:requests one job's, J:reqrefs one schedule's (a lex range), so a filtered call reads
 * only the requests it may return. Request `{ op: 'request', ce, code, key, now, pad,
 * requestedBy }` (answers `{ missing = true }` for a runtime schedule that does not exist,
 * filing nothing), or `{ op: 'pending', codes: [{ ce }], refs: [{ ce, key }],
 * limit }`: with refs, the requests of those schedules (the caller has already applied any
 * code filter to them); else with codes, those jobs'; else all. Null filters and limit mean
 * all; the caller sends each code or ref once. A request is consumed only by the claim that
 * names it (scripts/claim.ts), in the same script.
 */
export const REQUESTS_LUA = `
local bad = check_globals()
if bad then return redis.error_reply(bad) end
if req.op == 'request' then
  bad = check_requests(req.ce)
  if bad then return redis.error_reply(bad) end
  if req.key ~= '' then
    local gate, why = schedule_gate(req.ce, req.key)
    if why then return redis.error_reply(why) end
    if not gate then return cjson.encode({ missing = true }) end
  end
  -- Unique across shards: each shard's counter times the shard count, plus the shard (the counter itself on a single node).
  local id = next_id(gk('reqseq')) * SHARDS + S
  local request = { id = string.format('%d', id), code = req.code, key = req.key, requestedAt = req.now, requestedBy = req.requestedBy }
  file_request(req.ce, request, req.pad .. ':' .. pad12(id))
  publish('run-request', req.code, req.key)
  return cjson.encode(request)
end

-- Where the requests come from: one lex range per schedule, one zset per job, or the global order.
-- skip: characters before the request's member (a J:reqrefs member starts with <key> NUL).
local sources = {}
if req.refs ~= NULL then
  for _, r in ipairs(req.refs) do
    local min, max = ref_range(r.key)
    sources[#sources + 1] = { z = jk(r.ce, 'reqrefs'), min = min, max = max, skip = #r.key + 1, ce = r.ce, key = r.key }
  end
elseif req.codes ~= NULL then
  for _, c in ipairs(req.codes) do
    sources[#sources + 1] = { z = jk(c.ce, 'requests'), min = '-', max = '+', skip = 0, ce = c.ce }
  end
else
  sources[1] = { z = gk('requests'), min = '-', max = '+', skip = 0 }
end
for _, s in ipairs(sources) do
  bad = check(s.z, 'zset')
  if bad then return redis.error_reply(bad) end
end

-- Reads first: merge the sources oldest first. Each round takes the first \`want\` members of every
-- source still open; the first \`want\` of their union are then the oldest \`want\` overall (a member a
-- source did not return has \`want\` older ones in that source alone). A round falls short of the
-- limit only when sources run dry or a member names a request that no longer exists (skipped).
local limit = req.limit
local out, seen = {}, {}
local from = {}
for i, s in ipairs(sources) do from[i] = s.min end
while #sources > 0 do
  local want = -1
  if limit ~= NULL then want = limit - #out end
  if want == 0 then break end
  local cands = {}
  local got, used, dry = {}, {}, {}
  for i, s in ipairs(sources) do
    if from[i] then
      local members = redis.call('ZRANGE', s.z, from[i], s.max, 'BYLEX', 'LIMIT', 0, want)
      got[i], used[i] = #members, 0
      dry[i] = want < 0 or #members < want
      for _, full in ipairs(members) do
        local m = string.sub(full, s.skip + 1)
        local at, n = string.match(m, '^(%d+):(%d+)$')
        if not at then
          return redis.error_reply('TICKWORK_CORRUPT key=' .. shown(s.z) .. ' why=its member ' .. shown(full) .. ' is not a run-now request member this version writes')
        end
        cands[#cands + 1] = { i = i, full = full, m = m, at = tonumber(at), n = tonumber(n) }
      end
    end
  end
  if #cands == 0 then break end
  table.sort(cands, function(a, b) return a.at < b.at or (a.at == b.at and a.n < b.n) end)
  local count = #cands
  if want > 0 and count > want then count = want end
  for j = 1, count do
    local c = cands[j]
    local s = sources[c.i]
    from[c.i] = '(' .. c.full
    used[c.i] = used[c.i] + 1
    local id = string.format('%d', c.n)
    local raw = nil
    if not seen[id] then raw = redis.call('HGET', gk('request'), id) end
    if seen[id] then
      -- the same request through a second source (the caller sends each code or ref once; this is a safeguard)
    elseif raw then
      seen[id] = true
      local ok, request = pcall(cjson.decode, raw)
      if not ok or type(request) ~= 'table' or type(request.code) ~= 'string' or type(request.key) ~= 'string' then
        return redis.error_reply('TICKWORK_CORRUPT key=' .. gk('request') .. ' why=its field ' .. id .. ' is not the JSON request this version writes')
      end
      out[#out + 1] = { request = request, m = c.m, id = id, ce = s.ce or encode_code(request.code) }
    end
  end
  -- A source that returned all it holds, all of it used, is done.
  for i in pairs(got) do
    if dry[i] and used[i] == got[i] then from[i] = nil end
  end
end

if #out == 0 then return '[]' end
local requests = {}
for j, o in ipairs(out) do requests[j] = o.request end
return cjson.encode(requests)
`;
