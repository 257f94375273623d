import { hasHash } from './cron.js';
/**
 * `input` with the binding's hash seed (a cron with `H` and no `hashSeed`) and DST policy (a cron
 * or daily schedule with no `dst`) written into the spec, so that the spec alone — which every
 * cache of compiled schedules is keyed by — decides the slots. Returns `input` itself when
 * nothing applies.
 */
export function bindSchedule(input, binding) {
    const spec = typeof input === 'string' ? { kind: 'cron', expression: input } : input;
    if (spec === null || typeof spec !== 'object')
        return input;
    const seed = binding.hashSeed !== undefined && spec.kind === 'cron' && spec.hashSeed === undefined && hasHash(spec.expression);
    const dst = binding.dst != null && (spec.kind === 'cron' || spec.kind === 'daily') && spec.dst === undefined;
    if (!seed && !dst)
        return input;
    return { ...spec, ...(seed ? { hashSeed: binding.hashSeed } : {}), ...(dst ? { dst: { ...binding.dst } } : {}) };
}
/** The seed of a schedule's `H` values: the job code, then the runtime schedule's key (none for the job's own). */
export function hashSeedOf(code, key) {
    return key === '' ? code : `${code} ${key}`;
}
//# sourceMappingURL=bind.js.map