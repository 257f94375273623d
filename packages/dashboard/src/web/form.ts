import { api, ApiError, seg, type Me } from './api.js';
import { h, mount } from './dom.js';

const FIELDS = [
  'key',
  'kind',
  'every',
  'anchor',
  'times',
  'weekdays',
  'monthDays',
  'expression',
  'at',
  'timezone',
  'payload',
  'enabled',
  'description',
  'startAt',
  'expiresAt',
];
/**
 * The fields the preview sends and checks. Its answer clears only their errors: a save refused
 * for another field (the payload) while a preview was in flight keeps its message — the preview
 * answering after the save used to wipe it.
 */
const PREVIEW_FIELDS = ['kind', 'every', 'anchor', 'times', 'weekdays', 'monthDays', 'expression', 'at', 'timezone'] as const;
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** Create or edit one runtime schedule: every kind, a timezone picker, the next five slots as you type, field errors beside their field. */
export async function scheduleForm(main: HTMLElement, code: string, key: string | null, me: Me): Promise<void> {
  document.title = `${key ? `Edit ${key}` : 'New schedule'} · ${code} · Tickwork`;
  const existing = key ? (await api('GET', `/api/jobs/${seg(code)}/schedules/${seg(key)}`)).schedule : null;
  const spec = existing?.schedule ?? { kind: 'cron', expression: '' };
  const inputs: Record<string, HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement> = {};
  const errors: Record<string, HTMLElement> = {};
  const input = (name: string, attrs: Record<string, unknown> = {}) => {
    const control = h('input', { id: `s-${name}`, name, type: 'text', 'aria-describedby': `s-${name}-error`, ...attrs });
    inputs[name] = control;
    return control;
  };
  /** The element that shows `name`'s error, kept in `errors` for the form's checks. */
  const errorSlot = (name: string, attrs: Record<string, unknown> = { id: `s-${name}-error` }) => {
    const slot = h('span', { class: 'error', role: 'alert', ...attrs });
    errors[name] = slot;
    return slot;
  };
  const row = (name: string, label: string, control: HTMLElement, hint?: string) =>
    h(
      'div',
      { class: 'field', 'data-field': name },
      h('label', { for: `s-${name}` }, label),
      control,
      hint ? h('span', { class: 'hint' }, hint) : null,
      errorSlot(name),
    );
  const zones = (Intl as any).supportedValuesOf ? ((Intl as any).supportedValuesOf('timeZone') as string[]) : ['UTC'];
  const zoneList = h('datalist', { id: 'zones' }, ...['UTC', ...zones].map((z) => h('option', { value: z })));
  const kind = h(
    'select',
    { id: 's-kind', name: 'kind', 'aria-describedby': 's-kind-error' },
    ...[
      ['every', 'Interval'],
      ['daily', 'Daily at times'],
      ['cron', 'Cron expression'],
      ['once', 'Once'],
    ].map(([v, t]) => h('option', { value: v }, t)),
  );
  inputs.kind = kind;
  kind.value = spec.kind;
  const weekdayBoxes = DAYS.map((d, i) =>
    h('input', { type: 'checkbox', value: String(i), 'aria-label': d, checked: (spec.weekdays ?? []).includes(i) }),
  );
  const payload = h('textarea', { id: 's-payload', name: 'payload', rows: 4, 'aria-describedby': 's-payload-error', spellcheck: 'false' });
  inputs.payload = payload;
  payload.value = existing && existing.payload !== null ? JSON.stringify(existing.payload, null, 2) : '';
  const enabled = h('input', { id: 's-enabled', type: 'checkbox', checked: existing ? existing.enabled : true });
  const preview = h('div', { id: 'preview', class: 'card', 'aria-live': 'polite' });
  const groups: Record<string, HTMLElement> = {
    every: h(
      'div',
      null,
      row('every', 'Every', input('every', { value: spec.everyMs ? `${spec.everyMs / 1000}s` : '', placeholder: '5m, 90s, 1h30m' })),
      row('anchor', 'Aligned to (optional)', input('anchor', { value: spec.anchor ?? '', placeholder: '2026-01-01T00:00:00Z' })),
    ),
    daily: h(
      'div',
      null,
      row('times', 'At local times', input('times', { value: (spec.times ?? []).join(', '), placeholder: '06:00, 18:30' })),
      h(
        'fieldset',
        { class: 'field', 'data-field': 'weekdays' },
        h('legend', null, 'Only on weekdays (none: every day)'),
        weekdayBoxes.map((b, i) => h('label', { class: 'inline' }, b, DAYS[i])),
        errorSlot('weekdays', {}),
      ),
      row('monthDays', 'Only on month days', input('monthDays', { value: (spec.monthDays ?? []).join(', '), placeholder: '1, 15' })),
    ),
    cron: h(
      'div',
      null,
      row(
        'expression',
        'Cron expression',
        input('expression', { value: spec.expression ?? '', placeholder: '*/15 * * * *', spellcheck: 'false' }),
        '5 fields, or 6 with seconds; L W # ? H allowed',
      ),
    ),
    once: h('div', null, row('at', 'At (ISO instant)', input('at', { value: spec.at ?? '', placeholder: '2026-03-01T09:00:00Z' }))),
  };
  const zoneRow = row(
    'timezone',
    'Timezone',
    input('timezone', { list: 'zones', value: existing?.timezone ?? '', placeholder: `job's zone (default ${me.timezone})` }),
  );
  const showKind = () => {
    for (const [name, group] of Object.entries(groups)) group.hidden = name !== kind.value;
    zoneRow.hidden = kind.value === 'every' || kind.value === 'once';
  };
  const formBody = () => {
    const body: Record<string, unknown> = {
      kind: kind.value,
      enabled: enabled.checked,
      payload: payload.value,
      description: inputs.description?.value || null,
      startAt: inputs.startAt?.value || null,
      expiresAt: inputs.expiresAt?.value || null,
    };
    if (kind.value === 'every') Object.assign(body, { every: inputs.every?.value, anchor: inputs.anchor?.value || null });
    if (kind.value === 'daily')
      Object.assign(body, {
        times: inputs.times?.value,
        weekdays: weekdayBoxes.filter((b) => b.checked).map((b) => Number(b.value)),
        monthDays: inputs.monthDays?.value,
        timezone: inputs.timezone?.value || null,
      });
    if (kind.value === 'cron') Object.assign(body, { expression: inputs.expression?.value, timezone: inputs.timezone?.value || null });
    if (kind.value === 'once') body.at = inputs.at?.value;
    return body;
  };
  const clearErrors = (fields: readonly string[] = FIELDS) => {
    for (const name of fields) {
      if (errors[name]) errors[name].textContent = '';
      inputs[name]?.removeAttribute('aria-invalid');
    }
  };
  const showError = (error: unknown) => {
    const field = error instanceof ApiError && error.field && errors[error.field] ? error.field : null;
    const text = error instanceof Error ? error.message : String(error);
    if (field) {
      (errors[field] as HTMLElement).textContent = text;
      inputs[field]?.setAttribute('aria-invalid', 'true');
    } else (errors.form as HTMLElement).textContent = text;
  };
  let timer: number | null = null;
  let seq = 0;
  const refreshPreview = () => {
    if (timer !== null) clearTimeout(timer);
    timer = window.setTimeout(async () => {
      const mine = ++seq;
      const body = formBody();
      try {
        const answer = await api(
          'POST',
          `/api/jobs/${seg(code)}/preview`,
          Object.fromEntries(PREVIEW_FIELDS.map((name) => [name, body[name]])),
        );
        if (mine !== seq) return;
        clearErrors(PREVIEW_FIELDS);
        mount(
          preview,
          h('h3', null, 'Next runs'),
          h('p', null, `${answer.description} — in ${answer.zone}`),
          answer.slots.length
            ? h(
                'ol',
                { class: 'slots' },
                answer.slots.map((s: any) => h('li', null, s.local)),
              )
            : h('p', null, 'no future slot'),
        );
      } catch (error) {
        if (mine !== seq) return;
        clearErrors(PREVIEW_FIELDS);
        showError(error);
        mount(preview, h('h3', null, 'Next runs'), h('p', { class: 'hint' }, 'fix the schedule to see its next runs'));
      }
    }, 250);
  };
  errors.form = h('p', { class: 'error', role: 'alert', id: 's-form-error' });
  const keyInput = input('key', { value: key ?? '', required: true, readonly: key !== null, placeholder: 'tenant-acme' });
  const form = h(
    'form',
    {
      id: 'schedule-form',
      class: 'card',
      novalidate: true,
      oninput: (e: Event) => {
        // The field being fixed loses its stale message at once; the preview re-checks the schedule.
        const name = (e.target as HTMLInputElement).name;
        if (name && errors[name]) (errors[name] as HTMLElement).textContent = '';
        (e.target as HTMLElement).removeAttribute('aria-invalid');
        refreshPreview();
      },
      onchange: refreshPreview,
      onsubmit: async (e: Event) => {
        e.preventDefault();
        clearErrors();
        const k = keyInput.value.trim();
        if (k === '') {
          (errors.key as HTMLElement).textContent = 'key is required';
          return;
        }
        try {
          await api('PUT', `/api/jobs/${seg(code)}/schedules/${seg(k)}`, formBody());
          location.hash = `#/job/${seg(code)}/schedules`;
        } catch (error) {
          showError(error);
        }
      },
    },
    h('h1', null, key ? `Edit schedule ${key} of ${code}` : `New schedule for ${code}`),
    row('key', 'Key', keyInput, 'unique within the job: letters, digits and . _ : - @ / + = #'),
    row('kind', 'Kind', kind),
    Object.values(groups),
    zoneRow,
    zoneList,
    row('payload', 'Payload (JSON)', payload, 'handed to the handler as ctx.payload'),
    h('div', { class: 'field' }, h('label', { class: 'inline', for: 's-enabled' }, enabled, ' Enabled')),
    row('description', 'Description', input('description', { value: existing?.description ?? '' })),
    row('startAt', 'Start at (optional)', input('startAt', { value: existing?.startAt ?? '', placeholder: 'ISO instant' })),
    row('expiresAt', 'Expires at (optional)', input('expiresAt', { value: existing?.expiresAt ?? '', placeholder: 'ISO instant' })),
    errors.form,
    h(
      'div',
      { class: 'toolbar' },
      h('button', { type: 'submit', id: 'save' }, 'Save schedule'),
      h('a', { href: `#/job/${seg(code)}/schedules` }, 'Cancel'),
    ),
  );
  kind.addEventListener('change', showKind);
  showKind();
  mount(
    main,
    h('p', null, h('a', { href: `#/job/${seg(code)}/schedules` }, `← schedules of ${code}`)),
    h('div', { class: 'grid' }, form, preview),
  );
  refreshPreview();
}
