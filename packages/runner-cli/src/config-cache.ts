import { createRequire, isBuiltin } from 'node:module';
import { basename, dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// Fetched, not imported: an ES import of node:fs or node:crypto builds its whole namespace (fs
// streams, WebCrypto: ~7 and ~10 ms of CPU a tick; see README "Cold start").
const { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } =
  process.getBuiltinModule('node:fs');

/**
 * The TypeScript config compiled to plain ES modules, kept between runs so that a tick whose
 * sources are unchanged imports them natively, with no jiti and no transpiling (README "Cold
 * start"). A config's entry lives in `<cacheDir>/esm-<hash of its real path>/`: `manifest.json`
 * names every fact the compiled files depend on — each local `.ts` source and each package's
 * `package.json` with its whole text, each path whose appearance would change how an import
 * resolves — and the generation directory holding the compiled files. `cachedConfigUrl` checks
 * them all (a few small reads, compared as text: no digest, so node:crypto, ~4 ms of CPU to load,
 * stays unloaded) and answers the entry module's URL, or null.
 *
 * The compiled files import each other by relative path, and everything else by the file URL
 * the import resolves to from the source's own directory (through the package's directory under
 * `node_modules`, not its real path, so an upgraded package is what its `package.json` now names).
 * What this cannot reproduce exactly — `require`, `__dirname`, `import.meta.resolve`, an import
 * computed at run time, `#` imports, a `.json`, `.cts` or `.tsx` file — makes `buildConfigCache`
 * answer null, and the config is loaded through jiti on every run, as without a cache.
 */

/** Bumped when what is written changes, so an older CLI's cache is never read. */
const FORMAT = 1;

interface Manifest {
  format: number;
  cli: string;
  /** The config's real path (the directory's name is only a hash of it). */
  config: string;
  /** The generation directory, relative to the entry's directory. */
  generation: string;
  /** The compiled config, relative to the generation directory. */
  entry: string;
  /** [path, its text when compiled]: the TypeScript sources and the packages' package.json. */
  files: [string, string][];
  /** Paths that did not exist; any of them appearing could change an import's resolution. */
  absent: string[];
}

/** The compiled config's file URL when the cache holds it and every source it was built from is unchanged; else null. */
export function cachedConfigUrl(cacheDir: string, configPath: string): string | null {
  try {
    const real = realpathSync(configPath);
    const dir = entryDir(cacheDir, real);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
    if (manifest.format !== FORMAT || manifest.cli !== cliVersion() || manifest.config !== real) return null;
    for (const [path, text] of manifest.files) if (readFileSync(path, 'utf8') !== text) return null;
    for (const path of manifest.absent) if (existsSync(path)) return null;
    return pathToFileURL(join(dir, manifest.generation, manifest.entry)).href;
  } catch {
    return null; // No entry yet, or unreadable, or a source gone: build again.
  }
}

/**
 * Compiles the config and the local TypeScript files it imports into the cache and answers the
 * compiled entry's file URL; null when the config uses something the cache cannot reproduce, no
 * `typescript` package is installed, or the cache cannot be written (the caller then loads the
 * config through jiti). Concurrent builders write the same generation (named by its content).
 */
export function buildConfigCache(cacheDir: string, configPath: string): string | null {
  const ts = loadTypeScript(configPath);
  if (ts === null) return null;
  let build: Build;
  let entry: string;
  try {
    build = new Build(ts, realpathSync(configPath));
    entry = build.compile(build.configPath);
  } catch {
    return null; // Unsupported, or a file that cannot be read: jiti loads it, or reports the error against the source.
  }
  const files = [...build.sources.entries(), ...build.packages.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  const outputs = [...build.outputs.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  const generation = `g-${hashOf(JSON.stringify([files, outputs])).slice(0, 16)}`;
  const manifest: Manifest = {
    format: FORMAT,
    cli: cliVersion(),
    config: build.configPath,
    generation,
    entry,
    files,
    absent: [...build.absent].sort(),
  };
  try {
    const dir = entryDir(cacheDir, build.configPath);
    const generationDir = join(dir, generation);
    mkdirSync(generationDir, { recursive: true, mode: 0o700 });
    for (const [name, code] of outputs) writeAtomically(join(generationDir, name), code);
    const superseded = previousGeneration(dir);
    // Dated now: a tick that read the old manifest may still be importing it for a moment.
    if (superseded !== null && superseded !== generation) touch(join(dir, superseded));
    writeAtomically(join(dir, 'manifest.json'), JSON.stringify(manifest));
    removeOldGenerations(dir, generation);
    return pathToFileURL(join(generationDir, entry)).href;
  } catch {
    return null; // Read-only or full: load without the cache.
  }
}

class Unsupported extends Error {}

type TypeScript = typeof import('typescript');

class Build {
  /** Local TypeScript source → its text. */
  readonly sources = new Map<string, string>();
  /** A package's package.json (through node_modules) → its text. */
  readonly packages = new Map<string, string>();
  readonly absent = new Set<string>();
  /** Compiled file name → code. */
  readonly outputs = new Map<string, string>();
  private readonly names = new Map<string, string>();
  private jiti: import('jiti').Jiti | undefined;

  constructor(
    private readonly ts: TypeScript,
    readonly configPath: string,
  ) {}

  /** Compiles `path` (and what it imports) once; answers its compiled file's name. */
  compile(path: string): string {
    const known = this.names.get(path);
    if (known !== undefined) return known;
    const name = `${basename(path).replace(/\.[^.]+$/, '')}-${hashOf(path).slice(0, 8)}.mjs`;
    this.names.set(path, name);
    const source = readFileSync(path, 'utf8');
    this.sources.set(path, source);
    const { outputText, diagnostics } = this.ts.transpileModule(source, {
      fileName: path,
      reportDiagnostics: true,
      compilerOptions: {
        module: this.ts.ModuleKind.ESNext,
        target: this.ts.ScriptTarget.ES2022,
        esModuleInterop: true,
        isolatedModules: true,
        sourceMap: false,
        inlineSourceMap: false,
      },
    });
    // A syntax error: jiti reports it against the source, where the compiled file's import would name the cache.
    if (diagnostics !== undefined && diagnostics.length > 0) throw new Unsupported();
    this.outputs.set(name, this.rewrite(path, outputText));
    return name;
  }

  /** `code` with each import pointing where it resolves from `path`, and `import.meta` paths as `path`'s. */
  private rewrite(path: string, code: string): string {
    const { ts } = this;
    const file = ts.createSourceFile(path, code, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
    const edits: { start: number; end: number; text: string }[] = [];
    const specifier = (node: import('typescript').Node) => {
      if (!ts.isStringLiteralLike(node)) throw new Unsupported();
      edits.push({ start: node.getStart(file), end: node.getEnd(), text: JSON.stringify(this.resolve(node.text, path)) });
    };
    const visit = (node: import('typescript').Node): void => {
      if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier !== undefined) {
        if (node.attributes !== undefined) throw new Unsupported(); // `with { type: 'json' }`
        specifier(node.moduleSpecifier);
        return;
      }
      if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
        if (node.arguments.length !== 1) throw new Unsupported();
        specifier(node.arguments[0] as import('typescript').Expression);
        return;
      }
      if (ts.isMetaProperty(node) && node.keywordToken === ts.SyntaxKind.ImportKeyword) {
        const parent = node.parent;
        const property = ts.isPropertyAccessExpression(parent) ? parent.name.text : '';
        const value =
          property === 'url' ? pathToFileURL(path).href : property === 'filename' ? path : property === 'dirname' ? dirname(path) : null;
        if (value === null) throw new Unsupported(); // import.meta.resolve, import.meta itself
        edits.push({ start: parent.getStart(file), end: parent.getEnd(), text: JSON.stringify(value) });
        return;
      }
      if (ts.isIdentifier(node) && (node.text === 'require' || node.text === '__dirname' || node.text === '__filename')) {
        throw new Unsupported(); // CommonJS, which jiti provides and an ES module does not
      }
      ts.forEachChild(node, visit);
    };
    visit(file);
    let out = code;
    for (const edit of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, edit.start) + edit.text + out.slice(edit.end);
    return out;
  }

  /** What `specifier`, imported from `from`, becomes in the compiled file. */
  private resolve(specifier: string, from: string): string {
    if (specifier.startsWith('node:') || isBuiltin(specifier)) return specifier;
    if (specifier.startsWith('#')) throw new Unsupported();
    if (specifier.startsWith('file:') || specifier.startsWith('/') || specifier.startsWith('./') || specifier.startsWith('../')) {
      const target = this.localFile(specifier.startsWith('file:') ? fileURLToPath(specifier) : resolve(dirname(from), specifier));
      const extension = extname(target);
      if (extension === '.ts' || extension === '.mts') return `./${this.compile(realpathSync(target))}`;
      if (extension === '.js' || extension === '.mjs') return pathToFileURL(target).href;
      throw new Unsupported(); // .cts, .tsx, .json, …
    }
    return this.packageUrl(specifier, from);
  }

  /** The file a relative import names, as jiti finds it: as written, `.js` → `.ts`, or with an extension added. */
  private localFile(path: string): string {
    const extension = extname(path);
    const candidates =
      extension === '.js'
        ? [path, `${path.slice(0, -3)}.ts`]
        : extension === '.mjs'
          ? [path, `${path.slice(0, -4)}.mts`]
          : ['', '.ts', '.mts', '.js', '.mjs', '/index.ts', '/index.mts', '/index.js', '/index.mjs'].map((suffix) => path + suffix);
    for (const candidate of candidates) {
      if (isFile(candidate)) return candidate;
      this.absent.add(candidate);
    }
    throw new Unsupported(); // jiti reports it, as it does today
  }

  /**
   * A package import: the file it resolves to (import conditions) from `from`, reached through
   * the package's directory in the nearest `node_modules` that has it. Not installed: left as
   * written (importing it fails, as it would from the source), and every place it could appear
   * is watched.
   */
  private packageUrl(specifier: string, from: string): string {
    const parts = specifier.split('/');
    const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
    let packageDir: string | null = null;
    for (let dir = dirname(from); ; dir = dirname(dir)) {
      if (basename(dir) !== 'node_modules') {
        const candidate = join(dir, 'node_modules', name);
        if (existsSync(candidate)) {
          packageDir = candidate;
          break;
        }
        this.absent.add(candidate);
      }
      if (dirname(dir) === dir) break;
    }
    if (packageDir === null) return specifier;
    const packageJson = join(packageDir, 'package.json');
    this.packages.set(packageJson, readFileSync(packageJson, 'utf8'));
    this.jiti ??= (createRequire(import.meta.url)('jiti') as typeof import('jiti')).createJiti(import.meta.url);
    const url = this.jiti.esmResolve(specifier, { parentURL: pathToFileURL(from).href, conditions: ['node', 'import'] });
    if (!url.startsWith('file:')) throw new Unsupported();
    const real = realpathSync(packageDir) + sep;
    const target = fileURLToPath(url);
    if (!target.startsWith(real)) throw new Unsupported(); // resolved somewhere else than the package found
    return pathToFileURL(join(packageDir, target.slice(real.length))).href;
  }
}

function loadTypeScript(configPath: string): TypeScript | null {
  for (const from of [configPath, fileURLToPath(import.meta.url)]) {
    try {
      return createRequire(from)('typescript') as TypeScript;
    } catch {
      // Not installed there.
    }
  }
  return null;
}

/** The config's entry directory, named by a 64-bit FNV-1a of its real path (the manifest names the path, so a collision is only a miss). */
function entryDir(cacheDir: string, realPath: string): string {
  let hash = 0xcbf29ce484222325n;
  for (let i = 0; i < realPath.length; i++) hash = ((hash ^ BigInt(realPath.charCodeAt(i))) * 0x100000001b3n) & 0xffffffffffffffffn;
  return join(cacheDir, `esm-${hash.toString(16).padStart(16, '0')}`);
}

let createHash: typeof import('node:crypto').createHash | undefined;

function hashOf(data: string | Buffer): string {
  // Fetched on first use: only compiling needs it.
  createHash ??= process.getBuiltinModule('node:crypto').createHash;
  return createHash('sha256').update(data).digest('hex');
}

let version: string | undefined;

/** This CLI's version (from its package.json, one directory above `dist/` and `src/`). */
function cliVersion(): string {
  version ??= (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return version;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function writeAtomically(path: string, text: string): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, text, { mode: 0o600 });
  renameSync(temporary, path);
}

function touch(path: string): void {
  try {
    utimesSync(path, new Date(), new Date());
  } catch {
    // Already removed.
  }
}

/** The generation the entry's current manifest names, if any. */
function previousGeneration(dir: string): string | null {
  try {
    const { generation } = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
    return typeof generation === 'string' && /^g-[0-9a-f]+$/.test(generation) ? generation : null;
  } catch {
    return null;
  }
}

/**
 * Drops generations superseded (or written) more than ten minutes ago: a tick that read the
 * manifest before it changed may still be importing the old one for a moment. Each compile does.
 */
function removeOldGenerations(dir: string, keep: string): void {
  for (const name of readdirSync(dir)) {
    if (!name.startsWith('g-') || name === keep) continue;
    try {
      if (Date.now() - statSync(join(dir, name)).mtimeMs > 10 * 60_000) rmSync(join(dir, name), { recursive: true, force: true });
    } catch {
      // Another process removed it.
    }
  }
}
