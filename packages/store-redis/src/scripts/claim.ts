/**
 * The claim: each requested slot (or run-now request) in order, each atomically and seeing the
 * earlier ones' effects, in one script — the named run (idempotent per runner, a waiting one
 * may start), runtime-schedule check (exists, enabled, version), paused check, overlap per the
 * claim's policy against the schedule's live leases and waiting runs (interrupting expired
 * ones, returned as `reaped`), the limit of scheduled runs (`maxRuns`, null for none), fencing
 * token, run record, indexes, request and state.
 * Request: `{ now, runnerId, items: [{ ce, code, key, version, field, slotAt, attempt, trigger,
 * policy, backfill, rid, maxRuns, startedAt, leaseExpiresAt, pad, passed }] }` (`passed`: `{ after,
 * ranges: [{ first, last, count, reason, message, pad }] }` or null): `field` is the claim record
 * (`<key>|<slotMs>|<attempt>`, or `#<request id>` for a run-now request `rid`), `version` null
 * when the claim names none. Answers `[{ s, run, reaped }]` (`reaped`: `[{ run, state }]`).
 */
export const CLAIM_LUA = `
local bad = check_batch(req.items)
if bad then return redis.error_reply(bad) end
-- Runtime schedules and named requests are read before the first write too, so a damaged one fails the whole batch.
local gates = {}
for i, c in ipairs(req.items) do
  if c.key ~= '' then
    local gate, why = schedule_gate(c.ce, c.key)
    if why then return redis.error_reply(why) end
    gates[i] = gate
  end
  if c.rid ~= NULL then
    bad = check_requests(c.ce)
    if bad then return redis.error_reply(bad) end
  end
end
local now = req.now

-- The run a claim names (by its claim record) while it is running or waiting, and whether a claim record exists.
-- A finished or skipped one is only "recorded": the common answer under contention, \`taken\`, needs no run read.
local function named_run(c)
  local ns = redis.call('HGET', jk(c.ce, 'claims'), c.field)
  if not ns then return nil, false end
  if not (in_list(c.ce, 'active', c.key, ns) or in_list(c.ce, 'waiting', c.key, ns)) then return nil, true end
  return get_run(c.ce, ns), true
end
-- A pending request of this claim's schedule, decoded; nil when not pending (or another schedule's).
local function pending_request(c)
  local raw = redis.call('HGET', gk('request'), c.rid)
  if not raw then return nil end
  local ok, request = pcall(cjson.decode, raw)
  if not ok or type(request) ~= 'table' or request.code ~= c.code or request.key ~= c.key then return nil end
  return request
end
-- A new run record for this claim, with its claim record and index members (status set by the caller).
local function new_run(c, status)
  local n = next_id(jk(c.ce, 'seq'))
  local run = {
    id = n .. '.' .. c.ce, n = n, ce = c.ce, member = c.pad .. ':' .. pad12(n) .. ':' .. c.ce, cf = c.field,
    code = c.code, key = c.key, slotAt = c.slotAt, attempt = c.attempt, trigger = c.trigger, status = status,
    runnerId = req.runnerId, token = 0, requestId = c.rid, cancelRequested = false, startedAt = c.startedAt,
    finishedAt = NULL, durationMs = NULL, leaseExpiresAt = NULL, message = NULL, error = NULL, stack = NULL,
  }
  redis.call('HSET', jk(c.ce, 'claims'), c.field, n)
  redis.call('ZADD', jk(c.ce, 'index'), 0, run.member)
  redis.call('ZADD', gk('index'), 0, run.member)
  return run
end
local function consume(c, request)
  if request then drop_request(c.ce, c.key, string.format('%015d', request.requestedAt) .. ':' .. pad12(tonumber(request.id)), request.id) end
end
local function advance(c, state)
  if c.trigger == 'schedule' and (state.lastSlotAt == NULL or c.slotAt > state.lastSlotAt) then state.lastSlotAt = c.slotAt end
  state.updatedAt = now
end

-- A winning schedule claim's passed ranges, one skipped record each (attempt 0), when its plan started from the lastSlotAt it found (before).
local function record_passed(c, state, before)
  local after = c.passed.after
  if before == nil then before = NULL end
  if before ~= after then return end
  if before ~= NULL and c.slotAt <= before then return end
  for _, r in ipairs(c.passed.ranges) do
    local field = c.key .. '|' .. string.format('%d', r.first) .. '|0'
    if not redis.call('HGET', jk(c.ce, 'claims'), field) then
      local n = next_id(jk(c.ce, 'seq'))
      local run = {
        id = n .. '.' .. c.ce, n = n, ce = c.ce, member = r.pad .. ':' .. pad12(n) .. ':' .. c.ce, cf = field,
        code = c.code, key = c.key, slotAt = r.first, attempt = 0, trigger = 'schedule', status = 'skipped',
        runnerId = req.runnerId, token = 0, requestId = NULL, cancelRequested = false, startedAt = r.last,
        finishedAt = c.startedAt, durationMs = 0, leaseExpiresAt = NULL, message = r.message, error = NULL, stack = NULL,
        skipReason = r.reason, slotCount = r.count, rangeLastSlotAt = r.last,
      }
      redis.call('HSET', jk(c.ce, 'claims'), field, n)
      redis.call('ZADD', jk(c.ce, 'index'), 0, run.member)
      redis.call('ZADD', gk('index'), 0, run.member)
      put_run(c.ce, run)
      redis.call('ZADD', gk('finished'), run.finishedAt, run.id)
      -- The reason of the latest skipped slot (an overlap skip of this claim's own slot is later than any range).
      if state.lastSkippedSlotAt == nil or state.lastSkippedSlotAt == NULL or r.last > state.lastSkippedSlotAt then
        state.lastSkippedSlotAt = r.last
        state.lastSkipReason = r.reason
      end
    end
  end
end

local out = {}
for i, c in ipairs(req.items) do
  local named, recorded = named_run(c)
  local request = nil
  local answer = nil
  if named and named.status == 'running' and named.runnerId == req.runnerId then
    -- The same runner claiming again (its answer was lost): its own run and lease, unchanged.
    answer = { s = 'claimed', run = named }
  elseif recorded and not (named and named.status == 'waiting') then
    answer = { s = 'taken' }
  elseif c.rid ~= NULL and not named then
    request = pending_request(c)
    if not request then answer = { s = 'taken' } end
  end
  if not answer and c.key ~= '' then
    local gate = gates[i]
    if (not gate) or (not gate.enabled) or (c.version ~= NULL and c.version ~= gate.version) then answer = { s = 'unscheduled' } end
  end
  local state, created = nil, false
  local before = nil
  if not answer then
    state, created = get_state(c.ce, c.code, c.key, now)
    before = state.lastSlotAt
    if state.paused then answer = { s = 'paused' } end
  end
  -- Ended: a limited schedule's scheduled runs were all claimed (a waiting run counted when it was queued;
  -- states written before limited runs count from 0).
  local counted = c.trigger == 'schedule' and not named
  if not answer and counted and c.maxRuns ~= NULL and (state.scheduledRuns or 0) >= c.maxRuns then answer = { s = 'ended' } end
  if not answer then
    local reaped = {}
    local changed = false
    if c.policy ~= 'allowAll' then
      local holders, expired = {}, {}
      for _, ns in ipairs(active_list(c.ce, c.key)) do
        local held = get_run(c.ce, ns)
        if held and held.status == 'running' then
          if held.leaseExpiresAt ~= NULL and held.leaseExpiresAt > now then holders[#holders + 1] = held
          else expired[#expired + 1] = held end
        end
      end
      for _, held in ipairs(expired) do
        interrupt(c.ce, held, state, now, 'interrupted: its lease expired without renewal and runner ' .. req.runnerId .. ' claimed the next run of the schedule')
        reaped[#reaped + 1] = { run = held, state = state }
        changed = true
      end
      local waiting = {}
      for _, w in ipairs(waiting_runs(c.ce, c.key)) do
        if not (named and w.n == named.n) then waiting[#waiting + 1] = w end
      end
      local earlier = waiting[1] and waiting[1].slotAt < c.slotAt
      if #holders > 0 or earlier then
        local holder = holders[1]
        local because
        if holder then because = 'run ' .. holder.id .. ' (runner ' .. holder.runnerId .. ') still holds the lease'
        else because = 'the earlier slot of run ' .. waiting[1].id .. ' waits before it' end
        local policy = c.policy
        if named or now < c.slotAt or c.trigger == 'retry' or c.backfill then
          answer = { s = 'busy' }
        elseif policy == 'skip' or ((policy == 'bufferOne' or policy == 'cancelOther') and #waiting > 0) then
          local run = new_run(c, 'skipped')
          run.finishedAt = c.startedAt
          run.durationMs = 0
          if policy == 'skip' then run.message = 'skipped: ' .. because .. ' (overlap policy skip)'
          else run.message = 'skipped: run ' .. waiting[1].id .. ' already waits for its turn (overlap policy ' .. policy .. ')' end
          run.skipReason = 'overlap'
          state.lastSkipReason = 'overlap'
          if state.lastSkippedSlotAt == nil or state.lastSkippedSlotAt == NULL or c.slotAt > state.lastSkippedSlotAt then state.lastSkippedSlotAt = c.slotAt end
          put_run(c.ce, run)
          redis.call('ZADD', gk('finished'), run.finishedAt, run.id)
          consume(c, request)
          advance(c, state)
          changed = true
          answer = { s = 'overlap', run = run }
        else
          if policy == 'cancelOther' then
            for _, other in ipairs(holders) do
              if not other.cancelRequested then
                other.cancelRequested = true
                put_run(c.ce, other)
              end
            end
          end
          if c.rid ~= NULL then
            answer = { s = 'busy' }
          else
            local run = new_run(c, 'waiting')
            run.message = 'waiting: ' .. because .. ' (overlap policy ' .. policy .. ')'
            put_run(c.ce, run)
            add_to_list(c.ce, 'waiting', c.key, run.n)
            note_waiting(c.ce, c.key, state)
            if counted then state.scheduledRuns = (state.scheduledRuns or 0) + 1 end
            advance(c, state)
            changed = true
            answer = { s = 'waiting', run = run }
          end
        end
      end
    end
    if not answer then
      local run = named
      if run then
        -- A waiting run starts: it leaves the waiting list, and its index members move to its start.
        remove_from_list(c.ce, 'waiting', c.key, run.n)
        redis.call('ZREM', jk(c.ce, 'index'), run.member)
        redis.call('ZREM', gk('index'), run.member)
        run.member = c.pad .. ':' .. pad12(run.n) .. ':' .. c.ce
        redis.call('ZADD', jk(c.ce, 'index'), 0, run.member)
        redis.call('ZADD', gk('index'), 0, run.member)
        run.status = 'running'
        run.runnerId = req.runnerId
        run.startedAt = c.startedAt
        run.message = NULL
        note_waiting(c.ce, c.key, state)
      else
        run = new_run(c, 'running')
      end
      -- A fresh token: a new run's number is one; a waiting run (numbered when it began to wait) takes the next.
      if named then run.token = next_id(jk(c.ce, 'seq')) else run.token = run.n end
      run.leaseExpiresAt = c.leaseExpiresAt
      put_run(c.ce, run)
      add_to_list(c.ce, 'active', c.key, run.n)
      redis.call('ZADD', gk('leases'), c.leaseExpiresAt, run.id)
      consume(c, request)
      state.totalRuns = state.totalRuns + 1
      if counted then state.scheduledRuns = (state.scheduledRuns or 0) + 1 end
      advance(c, state)
      changed = true
      answer = { s = 'claimed', run = run }
    end
    if (answer.s == 'claimed' or answer.s == 'waiting' or answer.s == 'overlap') and c.trigger == 'schedule' and c.passed ~= NULL then
      record_passed(c, state, before)
      changed = true
    end
    if changed then put_state(c.ce, state, created) end
    if #reaped > 0 then answer.reaped = reaped end
  end
  out[i] = answer
end
return cjson.encode(out)
`;
