import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Imports an optional package as the host project sees it (its node_modules, from the project
 * directory upward), so it works with pnpm's strict layout where the CLI's own resolution would
 * not see it; falls back to the CLI's own resolution. Null when it is not installed.
 */
export async function importFromProject<Module>(projectDir: string, name: string): Promise<Module | null> {
  for (let dir = resolve(projectDir); ; dir = dirname(dir)) {
    const manifest = join(dir, 'node_modules', name, 'package.json');
    if (existsSync(manifest)) {
      const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { exports?: unknown; main?: string };
      return (await import(pathToFileURL(join(dirname(manifest), entryOf(pkg))).href)) as Module;
    }
    if (dirname(dir) === dir) break;
  }
  try {
    return (await import(name)) as Module;
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') return null;
    throw error;
  }
}

function entryOf(pkg: { exports?: unknown; main?: string }): string {
  const root =
    typeof pkg.exports === 'object' && pkg.exports !== null ? ((pkg.exports as Record<string, unknown>)['.'] ?? pkg.exports) : pkg.exports;
  if (typeof root === 'string') return root;
  if (typeof root === 'object' && root !== null) {
    const conditions = root as Record<string, unknown>;
    for (const condition of ['import', 'node', 'default'])
      if (typeof conditions[condition] === 'string') return conditions[condition] as string;
  }
  return pkg.main ?? 'index.js';
}
