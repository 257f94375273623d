import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// Core's entries (package.json "exports") are read as a reader takes them in: named exports only,
// every name with its one-line TSDoc (on the export itself or on the declaration it names), each
// name on one entry but for the few contract types a host names too, and each entry in the README.

const root = fileURLToPath(new URL('..', import.meta.url));
const manifest = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { exports: Record<string, string | { import: string }> };
const readme = readFileSync(`${root}README.md`, 'utf8');

/** Each code entry point: its subpath and its source file (dist/x.js is built from src/x.ts). */
const entries = Object.entries(manifest.exports)
  .filter(([, target]) => typeof target === 'object')
  .map(([subpath, target]) => ({
    subpath: subpath === '.' ? '@tickwork/core' : `@tickwork/core/${subpath.slice(2)}`,
    source: `${root}${(target as { import: string }).import.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts')}`,
  }));

const program = ts.createProgram(
  entries.map((entry) => entry.source),
  { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, noEmit: true },
);
const checker = program.getTypeChecker();

/** The names a module exports, each with whether a TSDoc comment documents it. */
function exportsOf(source: string): { name: string; documented: boolean }[] {
  const file = program.getSourceFile(source);
  if (!file) throw new Error(`no source file ${source}`);
  const module = checker.getSymbolAtLocation(file);
  if (!module) throw new Error(`${source} is not a module`);
  return checker.getExportsOfModule(module).map((symbol) => {
    const inline = (symbol.declarations ?? []).some((declaration) => hasTsDoc(declaration));
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    const declared = ts.displayPartsToString(target.getDocumentationComment(checker)).trim() !== '';
    return { name: symbol.name, documented: inline || declared };
  });
}

/** A `/** … *\/` comment right before the node (an export specifier's inline TSDoc, or the statement's). */
function hasTsDoc(node: ts.Node): boolean {
  const at = ts.isExportSpecifier(node) && node.parent.elements.length === 1 ? node.parent.parent.parent : node;
  const text = at.getSourceFile().getFullText();
  return (ts.getLeadingCommentRanges(text, at.getFullStart()) ?? []).some((range) => text.startsWith('/**', range.pos));
}

/** `export * from …` statements of a file. */
function starExports(source: string): string[] {
  const file = program.getSourceFile(source);
  if (!file) throw new Error(`no source file ${source}`);
  return file.statements
    .filter((statement) => ts.isExportDeclaration(statement) && statement.exportClause === undefined)
    .map((statement) => statement.getText(file));
}

/** The contract types a host names too: on the main entry and on `/store` (README: "A name lives on one entry"). */
const ON_TWO_ENTRIES = new Set(['Store', 'ScheduleRef', 'JobState', 'RunRecord', 'RunStatus', 'SkipReason']);

describe("core's entry points", () => {
  it('are the package.json exports, and the README lists each', () => {
    expect(entries.map((entry) => entry.subpath)).toEqual([
      '@tickwork/core',
      '@tickwork/core/store',
      '@tickwork/core/runner',
      '@tickwork/core/schedule',
    ]);
    for (const entry of entries) expect(readme, entry.subpath).toContain(`| \`${entry.subpath}\` |`);
  });

  it.each(entries)('$subpath exports by name only, no `export *`', ({ source }) => {
    expect(starExports(source)).toEqual([]);
  });

  it.each(entries)('$subpath: every exported name has its TSDoc', ({ source }) => {
    const undocumented = exportsOf(source)
      .filter((name) => !name.documented)
      .map((name) => name.name);
    expect(undocumented).toEqual([]);
  });

  it('a name lives on one entry, but for the contract types a host names too', () => {
    const seen = new Map<string, string>();
    const twice: string[] = [];
    for (const entry of entries) {
      for (const { name } of exportsOf(entry.source)) {
        const first = seen.get(name);
        if (first !== undefined && !ON_TWO_ENTRIES.has(name)) twice.push(`${name} (${first}, ${entry.subpath})`);
        seen.set(name, entry.subpath);
      }
    }
    expect(twice).toEqual([]);
  });
});
