/**
 * The claim: for each requested slot, in order and in one atomic script — taken check
 * (exactly-once on (key, slot, attempt)), runtime-schedule check (exists, enabled, version),
 * paused check, overlap check against the schedule's live leases (interrupting expired ones),
 * fencing token, run record, indexes and state.
 * Request: `{ now, runnerId, items: [{ ce, code, key, version, field, slotAt, attempt, trigger,
 * parallel, startedAt, leaseExpiresAt, pad }] }` (`version` null when the claim names none).
 */
export const CLAIM_LUA = `
local bad = check_batch(req.items)
if bad then return redis.error_reply(bad) end
-- Runtime schedules are read before the first write too, so a damaged one fails the whole batch.
local gates = {}
for i, c in ipairs(req.items) do
  if c.key ~= '' then
    local gate, why = schedule_gate(c.ce, c.key)
    if why then return redis.error_reply(why) end
    gates[i] = gate
  end
end
local now = req.now
local out = {}
for i, c in ipairs(req.items) do
  -- Taken first: a lost race is the common answer under contention and needs no state read.
  local taken = redis.call('HEXISTS', jk(c.ce, 'claims'), c.field) == 1
  local unscheduled = false
  if not taken and c.key ~= '' then
    local gate = gates[i]
    unscheduled = (not gate) or (not gate.enabled) or (c.version ~= NULL and c.version ~= gate.version)
  end
  local state, created = nil, false
  if not taken and not unscheduled then state, created = get_state(c.ce, c.code, c.key, now) end
  if taken then
    out[i] = { s = 'taken' }
  elseif unscheduled then
    out[i] = { s = 'unscheduled' }
  elseif state.paused then
    out[i] = { s = 'paused' }
  else
    local live = nil
    if not c.parallel then
      local expired = {}
      for _, ns in ipairs(active_list(c.ce, c.key)) do
        local held = get_run(c.ce, ns)
        if held and held.status == 'running' then
          if held.leaseExpiresAt ~= NULL and held.leaseExpiresAt > now then live = held
          else expired[#expired + 1] = held end
        end
      end
      for _, held in ipairs(expired) do
        interrupt(c.ce, held, state, now, 'interrupted: its lease expired without renewal and runner ' .. req.runnerId .. ' claimed the next run of the schedule')
      end
    end
    local n = next_id(jk(c.ce, 'seq'))
    local member = c.pad .. ':' .. pad12(n) .. ':' .. c.ce
    local run = {
      id = n .. '.' .. c.ce, n = n, ce = c.ce, member = member, cf = c.field,
      code = c.code, key = c.key, slotAt = c.slotAt, attempt = c.attempt, trigger = c.trigger,
      runnerId = req.runnerId, token = n, startedAt = c.startedAt, message = NULL, error = NULL, stack = NULL,
    }
    if live then
      run.status = 'skipped'
      run.finishedAt = c.startedAt
      run.durationMs = 0
      run.leaseExpiresAt = NULL
      run.message = 'skipped: run ' .. live.id .. ' of this schedule still holds its lease and parallel runs are not allowed'
      redis.call('ZADD', gk('finished'), run.finishedAt, run.id)
    else
      run.status = 'running'
      run.finishedAt = NULL
      run.durationMs = NULL
      run.leaseExpiresAt = c.leaseExpiresAt
      state.totalRuns = state.totalRuns + 1
      local list = active_list(c.ce, c.key)
      list[#list + 1] = tostring(n)
      set_active(c.ce, c.key, list)
      redis.call('ZADD', gk('leases'), c.leaseExpiresAt, run.id)
    end
    redis.call('HSET', jk(c.ce, 'claims'), c.field, n)
    put_run(c.ce, run)
    redis.call('ZADD', jk(c.ce, 'index'), 0, member)
    redis.call('ZADD', gk('index'), 0, member)
    if c.trigger == 'schedule' and (state.lastSlotAt == NULL or c.slotAt > state.lastSlotAt) then state.lastSlotAt = c.slotAt end
    state.updatedAt = now
    put_state(c.ce, state, created)
    if live then out[i] = { s = 'overlap', run = run } else out[i] = { s = 'claimed', run = run } end
  end
end
return cjson.encode(out)
`;
