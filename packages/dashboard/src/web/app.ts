import { api, ApiError, qs, seg, setCsrf, type Me } from './api.js';
import { duration, h, mount, relative, zoned } from './dom.js';
import { runChart } from './chart.js';
import { scheduleForm } from './form.js';

const main = document.getElementById('main') as HTMLElement;
const nav = document.getElementById('nav') as HTMLElement;
const flash = document.getElementById('flash') as HTMLElement;
let me: Me | null = null;
let events: EventSource | null = null;
/** What the current page wants to hear from the live feed. */
let onLive: ((event: string, data: any) => void) | null = null;

const can = (role: 'operator' | 'admin') => me !== null && (me.role === 'admin' || me.role === role);

/** Shows a message at the top (role=status, so screen readers hear it). */
export function say(text: string, kind: 'ok' | 'error' = 'ok'): void {
  mount(flash, h('p', { class: `flash ${kind}` }, text));
}

function errorText(error: unknown): string {
  return error instanceof ApiError ? `${error.status}: ${error.message}` : String(error);
}

/** Runs an action, reporting its outcome. */
export async function act(what: string, fn: () => Promise<unknown>, after?: () => void): Promise<void> {
  try {
    await fn();
    say(what);
    after?.();
  } catch (error) {
    say(errorText(error), 'error');
  }
}

function statusBadge(status: string | null): HTMLElement {
  return h('span', { class: `badge ${status ?? 'none'}` }, status ?? 'never ran');
}

function field(label: string, control: HTMLElement): HTMLElement {
  return h('label', { class: 'field' }, h('span', null, label), control);
}

async function signIn(): Promise<void> {
  nav.replaceChildren();
  const token = h('input', {
    type: 'password',
    id: 'token',
    name: 'token',
    autocomplete: 'current-password',
    required: true,
    'aria-describedby': 'token-error',
  });
  const error = h('p', { id: 'token-error', class: 'error', role: 'alert' });
  const form = h(
    'form',
    {
      class: 'card narrow',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        try {
          const answer = await api<Me>('POST', '/api/session', { token: token.value });
          setCsrf(answer.csrf);
          token.value = '';
          await start();
        } catch (err) {
          error.textContent = errorText(err);
        }
      },
    },
    h('h1', null, 'Sign in to Tickwork'),
    field('Access token', token),
    error,
    h('button', { type: 'submit' }, 'Sign in'),
    h('p', { class: 'hint' }, 'Create one with: tickwork dashboard token create --role admin'),
  );
  mount(main, form);
  token.focus();
}

async function start(): Promise<void> {
  try {
    me = await api<Me>('GET', '/api/me');
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return signIn();
    say(errorText(error), 'error');
    return;
  }
  setCsrf(me.csrf);
  mount(
    nav,
    h('a', { href: '#/' }, 'Jobs'),
    h('a', { href: '#/runners' }, 'Runners'),
    h('a', { href: '#/audit' }, 'Audit log'),
    can('admin') ? h('a', { href: '#/tokens' }, 'Tokens') : null,
    h('span', { class: 'who' }, `${me.name} (${me.role}) · store: ${me.store}`),
    h('span', { id: 'live', class: 'live', title: 'live feed' }, '○ live'),
    h(
      'button',
      {
        class: 'link',
        onclick: () =>
          act(
            'signed out',
            () => api('DELETE', '/api/session'),
            () => location.reload(),
          ),
      },
      'Sign out',
    ),
  );
  events?.close();
  events = new EventSource(`${new URL('.', document.baseURI).pathname}api/events`);
  const liveMark = document.getElementById('live') as HTMLElement;
  events.onopen = () => (liveMark.textContent = '● live');
  events.onerror = () => (liveMark.textContent = '○ reconnecting');
  for (const name of ['runs', 'change']) events.addEventListener(name, (e) => onLive?.(name, JSON.parse((e as MessageEvent).data)));
  await route();
}

async function route(): Promise<void> {
  if (!me) return;
  flash.replaceChildren();
  onLive = null;
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  try {
    if (parts[0] === 'job' && parts[1] && parts[2] === 'schedules') await schedulesPage(parts[1]);
    else if (parts[0] === 'job' && parts[1] && parts[2] === 'schedule') await scheduleForm(main, parts[1], parts[3] ?? null, me);
    else if (parts[0] === 'job' && parts[1]) await jobPage(parts[1]);
    else if (parts[0] === 'run' && parts[1]) await runPage(parts[1]);
    else if (parts[0] === 'runners') await runnersPage();
    else if (parts[0] === 'audit') await auditPage();
    else if (parts[0] === 'tokens') await tokensPage();
    else await jobsPage();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return signIn();
    mount(main, h('p', { class: 'flash error', role: 'alert' }, errorText(error)));
  }
}

// — jobs —
async function jobsPage(): Promise<void> {
  document.title = 'Jobs · Tickwork';
  const search = h('input', { type: 'search', id: 'search', placeholder: 'code or description', 'aria-label': 'Search jobs' });
  const filter = h(
    'select',
    { id: 'filter', 'aria-label': 'Show' },
    ...['all', 'paused', 'failing', 'active'].map((v) => h('option', { value: v }, v)),
  );
  const note = h('input', { type: 'text', id: 'bulk-note', placeholder: 'note (for pause)', 'aria-label': 'Pause note' });
  const body = h('tbody');
  const selected = new Set<string>();
  let jobs: any[] = [];
  const draw = () => {
    const q = search.value.trim().toLowerCase();
    const shown = jobs.filter(
      (j) =>
        (q === '' || j.code.toLowerCase().includes(q) || (j.description ?? '').toLowerCase().includes(q)) &&
        (filter.value === 'all' ||
          (filter.value === 'paused' ? j.paused : filter.value === 'failing' ? j.consecutiveFailures > 0 : !j.paused)),
    );
    mount(
      body,
      shown.map((j) =>
        h(
          'tr',
          { 'data-code': j.code },
          h(
            'td',
            null,
            h('input', {
              type: 'checkbox',
              'aria-label': `select ${j.code}`,
              checked: selected.has(j.code),
              onchange: (e: Event) => ((e.target as HTMLInputElement).checked ? selected.add(j.code) : selected.delete(j.code)),
            }),
          ),
          h(
            'td',
            null,
            h('a', { href: `#/job/${seg(j.code)}` }, j.code),
            j.description ? h('div', { class: 'hint' }, j.description) : null,
          ),
          h('td', null, j.scheduleText, j.overridden ? h('span', { class: 'hint' }, ' (override)') : null),
          h(
            'td',
            null,
            j.paused
              ? h('span', { class: 'hint' }, 'not while paused')
              : j.nextRun
                ? [h('span', { title: j.nextRun.at }, relative(j.nextRun.at)), h('div', { class: 'hint' }, j.nextRun.local)]
                : '—',
          ),
          h('td', null, statusBadge(j.lastStatus), j.lastFinishedAt ? h('div', { class: 'hint' }, relative(j.lastFinishedAt)) : null),
          h('td', { class: j.consecutiveFailures ? 'bad num' : 'num' }, String(j.consecutiveFailures)),
          h(
            'td',
            null,
            j.paused
              ? [h('span', { class: 'badge paused' }, 'paused'), j.pausedNote ? h('div', { class: 'note' }, j.pausedNote) : null]
              : j.enabled
                ? 'active'
                : 'disabled in code',
          ),
          h(
            'td',
            { class: 'num' },
            h(
              'a',
              { href: `#/job/${seg(j.code)}/schedules` },
              `${j.runtimeSchedules.count.toLocaleString('en')}${j.runtimeSchedules.more ? '+' : ''}`,
            ),
          ),
        ),
      ),
    );
    if (shown.length === 0) mount(body, h('tr', null, h('td', { colspan: 8 }, 'No job matches.')));
  };
  const load = async () => {
    jobs = (await api('GET', '/api/jobs')).jobs;
    draw();
  };
  search.addEventListener('input', draw);
  filter.addEventListener('change', draw);
  const bulk = (action: 'pause' | 'resume') =>
    act(
      `${action}d ${selected.size} job(s)`,
      () => api('POST', '/api/bulk', { action, note: note.value || null, targets: [...selected].map((code) => ({ code, key: '' })) }),
      () => void load(),
    );
  mount(
    main,
    h('h1', null, 'Jobs'),
    h(
      'div',
      { class: 'toolbar' },
      search,
      filter,
      can('operator')
        ? [
            note,
            h('button', { onclick: () => bulk('pause') }, 'Pause selected'),
            h('button', { onclick: () => bulk('resume') }, 'Resume selected'),
          ]
        : null,
    ),
    h(
      'table',
      null,
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          ...['', 'Job', 'Schedule', 'Next run', 'Last run', 'Failures', 'State', 'Runtime schedules'].map((t) =>
            h('th', { scope: 'col' }, t),
          ),
        ),
      ),
      body,
    ),
  );
  await load();
  let pending: number | null = null;
  onLive = () => {
    if (pending === null)
      pending = window.setTimeout(() => {
        pending = null;
        void load();
      }, 300);
  };
}

// — one job —
async function jobPage(code: string): Promise<void> {
  document.title = `${code} · Tickwork`;
  const data = await api('GET', `/api/jobs/${seg(code)}`);
  const j = data.job;
  const zone: string = j.timezone;
  const note = h('input', { type: 'text', id: 'pause-note', placeholder: 'why (shown with the pause)', 'aria-label': 'Pause note' });
  const reload = () => void jobPage(code);
  const actions = can('operator')
    ? h(
        'div',
        { class: 'toolbar' },
        j.paused
          ? h(
              'button',
              { id: 'resume', onclick: () => act(`resumed ${code}`, () => api('POST', `/api/jobs/${seg(code)}/resume`), reload) },
              'Resume',
            )
          : [
              note,
              h(
                'button',
                {
                  id: 'pause',
                  onclick: () =>
                    act(`paused ${code}`, () => api('POST', `/api/jobs/${seg(code)}/pause`, { note: note.value || null }), reload),
                },
                'Pause',
              ),
            ],
        h(
          'button',
          { id: 'trigger', onclick: () => act(`requested a run of ${code}`, () => api('POST', `/api/jobs/${seg(code)}/trigger`), reload) },
          'Run now',
        ),
      )
    : null;
  const status = h(
    'select',
    { id: 'f-status', name: 'status', 'aria-label': 'Status' },
    h('option', { value: '' }, 'any status'),
    ...['running', 'succeeded', 'failed', 'timed_out', 'interrupted', 'skipped'].map((v) => h('option', { value: v }, v)),
  );
  const key = h('input', { type: 'text', id: 'f-key', name: 'key', placeholder: "schedule key ('' = own)", 'aria-label': 'Schedule key' });
  const since = h('input', { type: 'datetime-local', id: 'f-since', 'aria-label': 'Started since' });
  const until = h('input', { type: 'datetime-local', id: 'f-until', 'aria-label': 'Started before' });
  const rows = h('tbody', { id: 'runs' });
  const chart = h('div', { class: 'chart' });
  const more = h('button', { id: 'older', hidden: true }, 'Older runs');
  let cursor: string | null = null;
  let shown: any[] = [];
  const iso = (v: string) => (v ? new Date(v).toISOString() : null);
  const row = (r: any) =>
    h(
      'tr',
      { 'data-run': r.id },
      h('td', null, h('a', { href: `#/run/${seg(r.id)}` }, zoned(r.startedAt, zone))),
      h('td', null, statusBadge(r.status)),
      h('td', null, r.key === '' ? h('span', { class: 'hint' }, 'own') : r.key),
      h('td', null, `${r.attempt}`, r.trigger !== 'schedule' ? h('span', { class: 'hint' }, ` ${r.trigger}`) : null),
      h('td', { class: 'num' }, duration(r.durationMs)),
      h('td', { class: 'msg' }, r.error ?? r.message ?? ''),
    );
  const draw = () => {
    mount(rows, shown.length ? shown.map(row) : h('tr', null, h('td', { colspan: 6 }, 'No runs match.')));
    mount(chart, runChart(shown));
    more.hidden = cursor === null;
  };
  const load = async (append: boolean) => {
    const page = await api(
      'GET',
      `/api/jobs/${seg(code)}/runs${qs({ status: status.value, key: key.value === "''" ? '' : key.value || null, since: iso(since.value), until: iso(until.value), cursor: append ? cursor : null, limit: '50' })}`,
    );
    shown = append ? [...shown, ...page.runs] : page.runs;
    cursor = page.nextCursor;
    draw();
  };
  more.addEventListener('click', () => void load(true).catch((e) => say(errorText(e), 'error')));
  const filters = h(
    'form',
    {
      class: 'toolbar',
      id: 'run-filters',
      onsubmit: (e: Event) => (e.preventDefault(), void load(false).catch((err) => say(errorText(err), 'error'))),
    },
    status,
    key,
    field('since', since),
    field('before', until),
    h('button', { type: 'submit' }, 'Filter'),
  );
  const o = data.options;
  const summary = h('div', { id: 'job-summary' });
  const drawSummary = (d: any) => {
    const j = d.job;
    mount(
      summary,
      h('h1', null, code, ' ', j.paused ? h('span', { class: 'badge paused' }, 'paused') : null),
      j.paused && j.pausedNote ? h('p', { class: 'note', id: 'paused-note' }, `Paused: ${j.pausedNote}`) : null,
      h(
        'div',
        { class: 'grid' },
        h(
          'section',
          { class: 'card' },
          h('h2', null, 'Schedule'),
          h('p', null, j.scheduleText),
          h(
            'p',
            null,
            'Next: ',
            j.paused
              ? 'not while paused (the slots below run after a resume)'
              : j.nextRun
                ? `${relative(j.nextRun.at)} — ${j.nextRun.local}`
                : '—',
          ),
          d.nextSlots.length
            ? h(
                'ol',
                { class: 'slots' },
                d.nextSlots.map((s: any) => h('li', null, s.local)),
              )
            : null,
          h(
            'p',
            { id: 'job-stats' },
            statusBadge(j.lastStatus),
            ` failure streak ${j.consecutiveFailures} · ${j.totalRuns} runs · ${j.pendingRequests} pending run-now`,
          ),
          j.maxRuns === null
            ? null
            : h(
                'p',
                { id: 'job-limit' },
                j.remainingRuns === 0
                  ? `Ended: all ${j.maxRuns} scheduled runs (maxRuns) were claimed; retries and run-now requests still run`
                  : `${j.remainingRuns} of ${j.maxRuns} scheduled runs left (maxRuns)`,
              ),
          h(
            'p',
            null,
            h(
              'a',
              { href: `#/job/${seg(code)}/schedules` },
              `Runtime schedules: ${j.runtimeSchedules.count}${j.runtimeSchedules.more ? '+' : ''}`,
            ),
          ),
          actions,
        ),
        h(
          'section',
          { class: 'card' },
          h('h2', null, 'Options'),
          h(
            'dl',
            null,
            Object.entries(o).map(([k, v]) => [
              h('dt', null, k),
              h('dd', null, v === null ? '—' : typeof v === 'object' ? JSON.stringify(v) : String(v)),
            ]),
          ),
        ),
      ),
    );
  };
  drawSummary(data);
  let refresh: number | null = null;
  const refreshSummary = () => {
    if (refresh === null)
      refresh = window.setTimeout(() => {
        refresh = null;
        void api('GET', `/api/jobs/${seg(code)}`).then(drawSummary, () => undefined);
      }, 300);
  };
  mount(
    main,
    h('p', null, h('a', { href: '#/' }, '← Jobs')),
    summary,
    h('h2', null, 'Run history'),
    filters,
    chart,
    h(
      'table',
      null,
      h(
        'thead',
        null,
        h('tr', null, ...[`Started (${zone})`, 'Status', 'Key', 'Attempt', 'Duration', 'Message'].map((t) => h('th', { scope: 'col' }, t))),
      ),
      rows,
    ),
    more,
  );
  await load(false);
  onLive = (event, payload) => {
    if (event === 'change') {
      if (payload.code === code) refreshSummary();
      return;
    }
    if (event !== 'runs') return;
    let changed = false;
    for (const run of payload.runs.filter((r: any) => r.code === code)) {
      const at = shown.findIndex((r) => r.id === run.id);
      if (at >= 0) shown[at] = run;
      else if (!status.value || status.value === run.status) shown.unshift(run);
      changed = true;
    }
    if (changed) {
      draw();
      refreshSummary();
    }
  };
}

async function runPage(id: string): Promise<void> {
  const { run, zone } = await api('GET', `/api/runs/${seg(id)}`);
  document.title = `Run ${id} · Tickwork`;
  mount(
    main,
    h('p', null, h('a', { href: `#/job/${seg(run.code)}` }, `← ${run.code}`)),
    h('h1', null, `Run ${run.id} `, statusBadge(run.status)),
    h(
      'dl',
      { class: 'card' },
      ...[
        ['job', run.code],
        ['schedule key', run.key === '' ? '(own schedule)' : run.key],
        ['slot', zoned(run.slotAt, zone)],
        ['attempt', run.attempt],
        ['trigger', run.trigger],
        ['runner', run.runnerId],
        ['started', zoned(run.startedAt, zone)],
        ['finished', zoned(run.finishedAt, zone)],
        ['times in', zone],
        ['duration', duration(run.durationMs)],
      ].map(([k, v]) => [h('dt', null, String(k)), h('dd', null, String(v))]),
    ),
    h('h2', null, 'Message'),
    h('pre', { id: 'run-message' }, run.message ?? '—'),
    h('h2', null, 'Error'),
    h('pre', { id: 'run-error', class: run.error ? 'bad' : '' }, run.error ?? '—'),
    run.stack ? [h('h2', null, 'Stack'), h('pre', { id: 'run-stack' }, run.stack)] : null,
  );
}

// — runtime schedules —
async function schedulesPage(code: string): Promise<void> {
  document.title = `${code} schedules · Tickwork`;
  const rows = h('tbody', { id: 'schedules' });
  const pageInfo = h('span', { class: 'hint', id: 'page-info' });
  const prev = h('button', { id: 'prev' }, '← Previous');
  const next = h('button', { id: 'next' }, 'Next →');
  const cursors: Array<string | null> = [null];
  let index = 0;
  let nextCursor: string | null = null;
  const base = `/api/jobs/${seg(code)}/schedules`;
  const load = async () => {
    const page = await api('GET', `${base}${qs({ cursor: cursors[index] ?? null, limit: '50' })}`);
    nextCursor = page.nextCursor;
    prev.disabled = index === 0;
    next.disabled = nextCursor === null;
    pageInfo.textContent = `page ${index + 1}`;
    mount(
      rows,
      page.schedules.length === 0
        ? h('tr', null, h('td', { colspan: 7 }, 'No runtime schedules yet.'))
        : page.schedules.map((s: any) => {
            const path = `${base}/${seg(s.key)}`;
            return h(
              'tr',
              { 'data-key': s.key },
              h(
                'td',
                null,
                can('admin') ? h('a', { href: `#/job/${seg(code)}/schedule/${seg(s.key)}` }, s.key) : s.key,
                s.description ? h('div', { class: 'hint' }, s.description) : null,
              ),
              h('td', null, s.scheduleText),
              h(
                'td',
                null,
                s.paused || !s.enabled
                  ? h('span', { class: 'hint' }, s.enabled ? 'not while paused' : 'disabled')
                  : s.nextRun
                    ? [relative(s.nextRun.at), h('div', { class: 'hint' }, s.nextRun.local)]
                    : '—',
              ),
              h('td', null, statusBadge(s.lastStatus)),
              h(
                'td',
                null,
                !s.enabled
                  ? h('span', { class: 'badge none' }, 'disabled')
                  : s.paused
                    ? [h('span', { class: 'badge paused' }, 'paused'), s.pausedNote ? h('div', { class: 'note' }, s.pausedNote) : null]
                    : 'active',
              ),
              h('td', { class: 'payload' }, s.payload === null ? '—' : JSON.stringify(s.payload)),
              h(
                'td',
                { class: 'row-actions' },
                can('operator')
                  ? [
                      s.paused
                        ? h(
                            'button',
                            {
                              onclick: () =>
                                act(
                                  `resumed ${s.key}`,
                                  () => api('POST', `${path}/resume`),
                                  () => void load(),
                                ),
                            },
                            'Resume',
                          )
                        : h(
                            'button',
                            {
                              onclick: () =>
                                act(
                                  `paused ${s.key}`,
                                  () => api('POST', `${path}/pause`, { note: prompt(`Why pause ${s.key}?`) || null }),
                                  () => void load(),
                                ),
                            },
                            'Pause',
                          ),
                      h('button', { onclick: () => act(`requested a run of ${s.key}`, () => api('POST', `${path}/trigger`)) }, 'Run now'),
                    ]
                  : null,
                can('admin')
                  ? [
                      h(
                        'button',
                        {
                          onclick: () =>
                            act(
                              `${s.enabled ? 'disabled' : 'enabled'} ${s.key}`,
                              () => api('POST', `${path}/${s.enabled ? 'disable' : 'enable'}`),
                              () => void load(),
                            ),
                        },
                        s.enabled ? 'Disable' : 'Enable',
                      ),
                      h(
                        'button',
                        {
                          class: 'danger',
                          onclick: () =>
                            confirm(`Remove schedule ${s.key}?`) &&
                            act(
                              `removed ${s.key}`,
                              () => api('DELETE', path),
                              () => void load(),
                            ),
                        },
                        'Remove',
                      ),
                    ]
                  : null,
              ),
            );
          }),
    );
  };
  prev.addEventListener('click', () => {
    if (index > 0) index -= 1;
    void load();
  });
  next.addEventListener('click', () => {
    if (nextCursor === null) return;
    cursors[index + 1] = nextCursor;
    index += 1;
    void load();
  });
  mount(
    main,
    h('p', null, h('a', { href: `#/job/${seg(code)}` }, `← ${code}`)),
    h('h1', null, `Runtime schedules of ${code}`),
    can('admin')
      ? h('p', null, h('a', { class: 'button', id: 'new-schedule', href: `#/job/${seg(code)}/schedule` }, 'New schedule'))
      : null,
    h(
      'table',
      null,
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          ...['Key', 'Schedule', 'Next run', 'Last run', 'State', 'Payload', 'Actions'].map((t) => h('th', { scope: 'col' }, t)),
        ),
      ),
      rows,
    ),
    h('div', { class: 'toolbar' }, prev, pageInfo, next),
  );
  await load();
}

// — runners —
async function runnersPage(): Promise<void> {
  document.title = 'Runners · Tickwork';
  const zone = me?.timezone ?? 'UTC';
  const data = await api('GET', '/api/runners');
  if (data.runners === null) {
    mount(
      main,
      h('h1', null, 'Runners'),
      h(
        'p',
        { id: 'runners-none' },
        `The ${me?.store ?? ''} store does not list the runners sharing it (no runner presence); each daemon reports its own on /healthz.`,
      ),
    );
    return;
  }
  const offset = (ms: number | null) =>
    ms === null
      ? '—'
      : `${ms >= 0 ? '+' : '−'}${Math.abs(ms) < 1000 ? `${Math.abs(Math.round(ms))} ms` : `${(Math.abs(ms) / 1000).toFixed(1)} s`}`;
  const rows = data.runners.map((r: any) =>
    h(
      'tr',
      { 'data-runner': r.runnerId },
      h('td', null, r.runnerId),
      h('td', null, r.alive ? h('span', { class: 'badge succeeded' }, 'alive') : h('span', { class: 'badge failed' }, 'dead')),
      h('td', null, zoned(r.startedAt, zone)),
      h('td', null, `${relative(r.lastHeartbeatAt, Date.parse(data.now))} — ${zoned(r.lastHeartbeatAt, zone)}`),
      h('td', { class: 'num' }, offset(r.clockOffsetMs)),
      h('td', null, r.connected === null ? '—' : r.connected ? 'yes' : 'no'),
    ),
  );
  mount(
    main,
    h('h1', null, 'Runners'),
    h(
      'p',
      { class: 'hint' },
      `Daemons sharing this store, as their heartbeats report them (presence: ${data.presence}; times in ${zone}; clock offset = runner − store).`,
    ),
    h(
      'table',
      null,
      h(
        'thead',
        null,
        h('tr', null, ...['Runner', 'State', 'Started', 'Last seen', 'Clock offset', 'Connected'].map((t) => h('th', { scope: 'col' }, t))),
      ),
      h('tbody', { id: 'runners' }, rows.length ? rows : h('tr', null, h('td', { colspan: 6 }, 'No runner has reported yet.'))),
    ),
  );
}

// — audit and tokens —
async function auditPage(): Promise<void> {
  document.title = 'Audit log · Tickwork';
  const rows = h('tbody', { id: 'audit' });
  const more = h('button', { hidden: true }, 'Older');
  let cursor: string | null = null;
  const load = async () => {
    const page = await api('GET', `/api/audit${qs({ cursor, limit: '50' })}`);
    for (const e of page.entries) {
      rows.append(
        h(
          'tr',
          null,
          h('td', null, zoned(e.at, me?.timezone ?? 'UTC')),
          h('td', null, `${e.actor.name} (${e.actor.role}, ${e.actor.via})`),
          h('td', null, e.action),
          h('td', null, [e.target.code, e.target.key, e.target.token].filter((x) => x !== undefined && x !== '').join(' / ')),
          h('td', { class: 'payload' }, JSON.stringify(e.before)),
          h('td', { class: 'payload' }, JSON.stringify(e.after)),
        ),
      );
    }
    cursor = page.nextCursor;
    more.hidden = cursor === null;
  };
  more.addEventListener('click', () => void load());
  mount(
    main,
    h('h1', null, 'Audit log'),
    h(
      'table',
      null,
      h('thead', null, h('tr', null, ...['When', 'Who', 'What', 'Target', 'Before', 'After'].map((t) => h('th', { scope: 'col' }, t)))),
      rows,
    ),
    more,
  );
  await load();
}

async function tokensPage(): Promise<void> {
  document.title = 'Tokens · Tickwork';
  const { tokens } = await api('GET', '/api/tokens');
  const name = h('input', { type: 'text', id: 'token-name', required: true });
  const role = h('select', { id: 'token-role' }, ...['viewer', 'operator', 'admin'].map((r) => h('option', { value: r }, r)));
  const expires = h('input', { type: 'text', id: 'token-expires', placeholder: 'e.g. 30d (empty: never)' });
  const secret = h('div', { id: 'token-secret', role: 'status' });
  mount(
    main,
    h('h1', null, 'Access tokens'),
    h(
      'form',
      {
        class: 'card toolbar',
        onsubmit: async (e: Event) => {
          e.preventDefault();
          try {
            const created = await api('POST', '/api/tokens', { name: name.value, role: role.value, expiresIn: expires.value || null });
            mount(secret, h('p', null, 'Copy it now, it is shown once: '), h('code', null, created.secret));
          } catch (error) {
            say(errorText(error), 'error');
          }
        },
      },
      field('Name', name),
      field('Role', role),
      field('Expires in', expires),
      h('button', { type: 'submit' }, 'Create token'),
    ),
    secret,
    h(
      'table',
      null,
      h('thead', null, h('tr', null, ...['Id', 'Name', 'Role', 'Created', 'Expires', ''].map((t) => h('th', { scope: 'col' }, t)))),
      h(
        'tbody',
        null,
        tokens.map((t: any) =>
          h(
            'tr',
            null,
            h('td', null, h('code', null, t.id)),
            h('td', null, t.name),
            h('td', null, t.role),
            h('td', null, zoned(t.createdAt, me?.timezone ?? 'UTC')),
            h('td', null, t.expiresAt ? zoned(t.expiresAt, me?.timezone ?? 'UTC') : 'never'),
            h(
              'td',
              null,
              h(
                'button',
                {
                  class: 'danger',
                  onclick: () =>
                    confirm(`Revoke ${t.name}?`) &&
                    act(
                      `revoked ${t.name}`,
                      () => api('DELETE', `/api/tokens/${seg(t.id)}`),
                      () => void tokensPage(),
                    ),
                },
                'Revoke',
              ),
            ),
          ),
        ),
      ),
    ),
  );
}

window.addEventListener('hashchange', () => void route());
void start();
