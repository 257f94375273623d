import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DashboardHttpError } from './errors.js';
import { sendError } from './http.js';
import type { Dashboard } from './dashboard.js';

/** A dashboard listening on its own port. */
export interface DashboardServer {
  /** e.g. `http://127.0.0.1:4000/dashboard/`. */
  readonly url: string;
  close(): Promise<void>;
}

/** Serves a dashboard on its own HTTP port (what `tickwork dashboard` and `tickwork daemon --dashboard` use). */
export async function startDashboardServer(dashboard: Dashboard, options: { port: number; host?: string }): Promise<DashboardServer> {
  const host = options.host ?? '127.0.0.1';
  const server = createServer((req, res) => {
    void dashboard.handle(req, res, () => {
      if ((req.url ?? '/') === '/') {
        res.writeHead(302, { location: `${dashboard.basePath}/` }).end();
        return;
      }
      sendError(res, new DashboardHttpError(404, `not found: the dashboard is at ${dashboard.basePath}/`));
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new DashboardHttpError(
          500,
          `cannot listen on ${host}:${options.port}: ${error.code === 'EADDRINUSE' ? 'the port is already in use' : error.message}`,
          null,
          { cause: error },
        ),
      ),
    );
    server.listen(options.port, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}${dashboard.basePath}/`,
    async close() {
      await dashboard.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
