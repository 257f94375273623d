import type { ParsedCron } from './cron.js';
import type { ParsedDaily } from './daily.js';
/** "every 5 minutes", "every 90 seconds", "every hour"; an anchor other than the epoch is named. */
export declare function describeEvery(everyMs: number, anchor: number): string;
/** "at 06:00 and 18:30 on weekdays (Europe/Paris)". */
export declare function describeDaily(daily: ParsedDaily, timezone: string): string;
/** A readable phrase for the cron shapes people write ("at 12:00 on the weekday nearest the 15th (UTC)"), else `cron "expr" (zone)`. */
export declare function describeCron(cron: ParsedCron, expression: string, timezone: string): string;
//# sourceMappingURL=describe.d.ts.map