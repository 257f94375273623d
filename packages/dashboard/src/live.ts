import type { ServerResponse } from 'node:http';
import type { RunRecord, Store } from '@tickwork/core';
import type { StoreChange, Unsubscribe } from '@tickwork/core/store';
import { SECURITY_HEADERS } from './http.js';
import { runView } from './views.js';

/** How often the live feed reads the run log while someone watches (claims and completions emit no change events). */
export const DEFAULT_LIVE_POLL_MS = 500;

/**
 * The live feed behind `GET /api/events` (Server-Sent Events). One bounded poll per dashboard
 * process, whoever watches: the running runs (≤ 200) and the newest 50, diffed by id and status;
 * a run that left both sets is read back by id. It runs only while at least one client is
 * connected. State and schedule changes come from `store.subscribe` where the store pushes
 * them, and from this dashboard's own mutations otherwise.
 */
export class LiveFeed {
  private readonly clients = new Set<ServerResponse>();
  private seen: Map<string, string> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private unsubscribe: Promise<Unsubscribe | null> | null = null;
  private polling = false;

  constructor(
    private readonly store: Store,
    private readonly pollMs: number,
  ) {}

  /** Streams events to one client until it disconnects. */
  attach(res: ServerResponse): void {
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 1000\n\n');
    this.clients.add(res);
    // A new watcher sees what is running now at once; later polls send only changes.
    this.store.queryRuns({ status: 'running', limit: 200 }).then(
      (page) =>
        this.clients.has(res) &&
        page.runs.length > 0 &&
        res.write(`event: runs\ndata: ${JSON.stringify({ runs: page.runs.map(runView) })}\n\n`),
      () => undefined,
    );
    res.on('close', () => {
      this.clients.delete(res);
      if (this.clients.size === 0) this.stop();
    });
    this.start();
  }

  /** Tells every client something changed (a mutation of this dashboard, or a store change event). */
  changed(change: StoreChange): void {
    this.send('change', change);
  }

  /** Ends every stream and stops polling. */
  close(): void {
    for (const client of this.clients) client.end();
    this.clients.clear();
    this.stop();
  }

  private start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.poll(), this.pollMs);
    this.timer.unref();
    this.heartbeat = setInterval(() => {
      for (const client of this.clients) client.write(': ping\n\n');
    }, 15_000);
    this.heartbeat.unref();
    if (this.store.capabilities.changeSubscription && this.store.subscribe && !this.unsubscribe) {
      this.unsubscribe = this.store.subscribe((change) => this.changed(change)).catch(() => null);
    }
    void this.poll();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.timer = null;
    this.heartbeat = null;
    this.seen = null;
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = null;
    void unsubscribe?.then((stop) => stop?.()).catch(() => undefined);
  }

  private async poll(): Promise<void> {
    if (this.polling) return; // a slow store: skip a beat rather than pile up reads
    this.polling = true;
    try {
      const [running, recent] = await Promise.all([
        this.store.queryRuns({ status: 'running', limit: 200 }),
        this.store.queryRuns({ limit: 50 }),
      ]);
      const current = new Map<string, RunRecord>();
      for (const run of [...running.runs, ...recent.runs]) current.set(run.id, run);
      const previous = this.seen;
      const changed: RunRecord[] = [];
      if (previous) {
        for (const run of current.values()) if (previous.get(run.id) !== run.status) changed.push(run);
        const gone = [...previous].filter(([id, status]) => status === 'running' && !current.has(id)).map(([id]) => id);
        for (const run of await Promise.all(gone.map((id) => this.store.getRun(id)))) if (run) changed.push(run);
      }
      this.seen = new Map([...current.values()].map((run) => [run.id, run.status]));
      if (changed.length > 0) this.send('runs', { runs: changed.map(runView) });
    } catch (error) {
      this.send('problem', { message: `live feed: ${(error as Error).message}` });
    } finally {
      this.polling = false;
    }
  }

  private send(event: string, data: unknown): void {
    if (this.clients.size === 0) return;
    const text = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const client of this.clients) client.write(text);
  }
}
