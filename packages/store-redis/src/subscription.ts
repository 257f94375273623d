/**
 * Change delivery: one dedicated subscriber connection per store instance, whatever the
 * number of listeners or jobs, so an idle daemon costs Redis nothing. ioredis resubscribes
 * the channel after every reconnect (`autoResubscribe`); messages published while the
 * connection was down are lost (Redis pub/sub keeps nothing), so a runner that must not
 * miss one also re-reads state on its regular poll.
 */
import type { StoreChange, Unsubscribe } from '@tickwork/core/store';
import type { Redis } from 'ioredis';

type Listener = (change: StoreChange) => void;

const TYPES = new Set<StoreChange['type']>(['state', 'run-request', 'schedule']);

/** Parses one published message; null for anything that is not a change. */
function parseChange(message: string): StoreChange | null {
  try {
    const value = JSON.parse(message) as Partial<StoreChange>;
    if (value && TYPES.has(value.type as StoreChange['type']) && typeof value.code === 'string' && typeof value.key === 'string') {
      return { type: value.type as StoreChange['type'], code: value.code, key: value.key };
    }
  } catch {
    // A foreign publisher on our channel: ignore it rather than break delivery.
  }
  return null;
}

/** Fans one channel out to the listeners of one store instance. */
export class ChangeSubscription {
  private readonly listeners = new Set<Listener>();
  private connection: Promise<Redis> | null = null;

  constructor(
    private readonly channel: string,
    private readonly connect: () => Promise<Redis>,
    private readonly release: (sub: Redis) => Promise<void>,
  ) {}

  /** Adds a listener; the first one opens the subscriber connection and subscribes. */
  async add(listener: Listener): Promise<Unsubscribe> {
    const entry: Listener = (change) => listener(change);
    this.listeners.add(entry);
    try {
      await this.open();
    } catch (error) {
      this.listeners.delete(entry);
      throw error;
    }
    return async () => {
      this.listeners.delete(entry);
      // The last listener gone: the subscriber connection goes too, so it never keeps a process alive.
      if (this.listeners.size === 0 && this.connection) {
        const opened = this.connection;
        this.connection = null;
        const sub = await opened.catch(() => null);
        if (sub) await this.release(sub);
      }
    };
  }

  /** Forgets the subscriber connection (the store closed every connection it created). */
  reset(): void {
    this.connection = null;
    this.listeners.clear();
  }

  private open(): Promise<Redis> {
    this.connection ??= (async () => {
      const sub = await this.connect();
      sub.on('message', (channel: string, message: string) => {
        if (channel !== this.channel) return;
        const change = parseChange(message);
        if (!change) return;
        for (const listener of [...this.listeners]) {
          try {
            listener(change);
          } catch {
            // One failing listener must not starve the others.
          }
        }
      });
      try {
        await sub.subscribe(this.channel);
      } catch (error) {
        // A failed subscribe must not leave a client reconnecting in the background forever.
        await this.release(sub);
        throw error;
      }
      return sub;
    })().catch((error: unknown) => {
      this.connection = null;
      throw error;
    });
    return this.connection;
  }

  /** Whether the subscriber connection is currently subscribed and connected. */
  async connected(): Promise<boolean> {
    if (!this.connection) return false;
    const sub = await this.connection;
    return sub.status === 'ready';
  }
}
