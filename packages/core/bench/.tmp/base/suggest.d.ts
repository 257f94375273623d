/** The candidate closest to `word` (case-insensitive edit distance under 4), for "did you mean" hints. */
export declare function closest(word: string, candidates: Iterable<string>): string | null;
//# sourceMappingURL=suggest.d.ts.map