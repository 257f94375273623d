/**
 * A zone's UTC offsets over time. Offsets come from Intl once per zone and UTC year
 * (daily samples, transitions refined to the second) and are then looked up without
 * Intl: slot computation stays fast and allocation-light.
 */
export interface ZoneRules {
    /** The IANA name as given. */
    readonly name: string;
    /** True for UTC and its aliases: offset always 0, no Intl involved. */
    readonly isUtc: boolean;
    /** Local wall time minus UTC, in milliseconds, at `instant`. */
    offsetAt(instant: number): number;
    /** Up to when the offset at `instant` is known to hold: the next transition or the end of a table. */
    periodEnd(instant: number): number;
    /** Since when the offset at `instant` is known to hold: the last transition or the start of a table. */
    periodStart(instant: number): number;
    /** The first instant after `instant` whose offset differs from the one at `instant`, or null before `limit`. */
    transitionAfter(instant: number, limit: number): number | null;
}
/** The rules of IANA zone `name`; throws InvalidScheduleError naming `what` and the timezone field. */
export declare function zoneRules(name: string, what: string): ZoneRules;
//# sourceMappingURL=timezone.d.ts.map