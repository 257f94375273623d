/**
 * A TCP relay between a replica and its primary, so a test can make replication lag on purpose:
 * after `hold()` the primary's stream no longer reaches the replica (the bytes are dropped, so
 * the replica never has those writes), and `cut()` closes every connection — together, a primary
 * that dies before its replica received its last writes. On loopback a real replica is a fraction of a millisecond behind, too little
 * for a test to place a crash inside; the relay widens that window deterministically.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

/** One relay; point the replica at `port` (`--replicaof 127.0.0.1 <port>`). */
export interface ReplicationLink {
  readonly port: number;
  /** From now on, the primary's replication stream is dropped instead of reaching the replica (follow with `cut()`). */
  hold(): void;
  /** Closes the relay and its connections (the replica's link to the primary goes down). */
  cut(): Promise<void>;
}

/** Starts a relay on a free loopback port towards the primary on `primaryPort`. */
export async function startReplicationLink(primaryPort: number): Promise<ReplicationLink> {
  let held = false;
  const sockets = new Set<Socket>();
  const server: Server = createServer((replica) => {
    const primary = connect(primaryPort, '127.0.0.1');
    for (const socket of [replica, primary]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => {
        sockets.delete(socket);
        replica.destroy();
        primary.destroy();
      });
    }
    replica.on('data', (chunk) => primary.write(chunk));
    primary.on('data', (chunk) => {
      if (!held) replica.write(chunk);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    hold() {
      held = true;
    },
    async cut() {
      held = true;
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
