/** The name and version of this package, as recorded with each migration and named in schema errors. */
let cached: string | undefined;

/** `@tickwork/store-sql <version>` (read from the package's own package.json once, when first needed). */
export function releaseName(): string {
  cached ??= (() => {
    try {
      // Fetched, not imported: an ES import of node:fs builds its whole namespace (~7 ms of CPU per crontab tick).
      const { readFileSync } = process.getBuiltinModule('node:fs');
      const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name?: string; version?: string };
      return `${pkg.name ?? '@tickwork/store-sql'} ${pkg.version ?? '(version unknown)'}`;
    } catch {
      return '@tickwork/store-sql (version unknown)';
    }
  })();
  return cached;
}
