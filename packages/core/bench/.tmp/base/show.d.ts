/** A value as it reads in an error message: JSON where possible, ISO for dates. */
export declare function show(value: unknown): string;
//# sourceMappingURL=show.d.ts.map