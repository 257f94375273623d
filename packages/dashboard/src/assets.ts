import { readdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { AccessStoreError } from './errors.js';
import { SECURITY_HEADERS } from './http.js';

interface Asset {
  body: Buffer;
  gzip: Buffer;
  type: string;
  etag: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** The prebuilt front end (dist/web), read and gzipped once. */
export class Assets {
  private readonly files = new Map<string, Asset>();

  constructor(directory = fileURLToPath(new URL('../dist/web/', import.meta.url))) {
    // From src/ (tests) and from dist/ alike, the built front end is the package's dist/web.
    let names: string[];
    try {
      names = readdirSync(directory);
    } catch (error) {
      throw new AccessStoreError(`the front end is not built (${directory} is missing): run the package's build`, { cause: error });
    }
    if (!names.includes('index.html'))
      throw new AccessStoreError(`the front end build in ${directory} has no index.html: run the package's build`);
    for (const name of names) {
      const ext = name.slice(name.lastIndexOf('.'));
      const type = TYPES[ext];
      if (!type) continue;
      const body = readFileSync(`${directory}${name}`);
      this.files.set(name, {
        body,
        gzip: gzipSync(body, { level: 9 }),
        type,
        etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`,
      });
    }
  }

  /** True when an asset of that name exists. */
  has(name: string): boolean {
    return this.files.has(name);
  }

  /** Bytes of each file as served gzipped (for the README's figures). */
  sizes(): Array<{ name: string; bytes: number; gzip: number }> {
    return [...this.files].map(([name, a]) => ({ name, bytes: a.body.length, gzip: a.gzip.length }));
  }

  /** Sends an asset (gzipped when the client accepts it; 304 on a matching ETag). */
  send(req: IncomingMessage, res: ServerResponse, name: string): void {
    const asset = this.files.get(name) as Asset;
    const headers: Record<string, string> = {
      ...SECURITY_HEADERS,
      'content-type': asset.type,
      etag: asset.etag,
      'cache-control': 'no-cache',
      vary: 'accept-encoding',
    };
    if (req.headers['if-none-match'] === asset.etag) {
      res.writeHead(304, headers).end();
      return;
    }
    const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const body = gzip ? asset.gzip : asset.body;
    res.writeHead(200, { ...headers, 'content-length': String(body.length), ...(gzip ? { 'content-encoding': 'gzip' } : {}) });
    res.end(req.method === 'HEAD' ? undefined : body);
  }
}
