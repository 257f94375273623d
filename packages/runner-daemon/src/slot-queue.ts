/** Something the queue orders by `dueAt`; the queue keeps `queueIndex` current so entries can move in O(log n). */
export interface Queued {
  /** Epoch milliseconds this entry next wants attention, or null when it wants none. */
  dueAt: number | null;
  /** Position in the heap; -1 while not queued. Owned by the queue. */
  queueIndex: number;
  /**
   * Orders entries due at the same instant: by `(rank − offset) mod 2³²`, lowest first, with the
   * queue's {@link SlotQueue.setOffset} (absent: 0). The queue never changes it.
   */
  readonly rank?: number;
}

/**
 * A binary min-heap of next instants (ties by `rank`). One daemon timer looks only at its top, so
 * 100,000 schedules cost one timer and O(log n) per re-plan instead of one timer each.
 */
export class SlotQueue<T extends Queued> {
  private readonly heap: T[] = [];
  private offset = 0;

  /**
   * Where this queue starts on the circle of ranks: entries due at the same instant leave it from
   * this point on. Changing it re-orders the heap (O(n)).
   */
  setOffset(offset: number): void {
    const next = offset >>> 0;
    if (next === this.offset) return;
    this.offset = next;
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  /** Number of queued entries. */
  get size(): number {
    return this.heap.length;
  }

  /** The entry due first, without removing it. */
  peek(): T | undefined {
    return this.heap[0];
  }

  /** Queues, moves or (when `dueAt` is null) removes an entry after its `dueAt` changed. */
  update(entry: T): void {
    if (entry.dueAt === null) {
      this.remove(entry);
      return;
    }
    if (entry.queueIndex < 0) {
      entry.queueIndex = this.heap.length;
      this.heap.push(entry);
      this.up(entry.queueIndex);
      return;
    }
    this.down(this.up(entry.queueIndex));
  }

  /** Takes the entry due first out of the queue. */
  pop(): T | undefined {
    const top = this.heap[0];
    if (top) this.remove(top);
    return top;
  }

  /** Takes an entry out of the queue (no-op when not queued). */
  remove(entry: T): void {
    const index = entry.queueIndex;
    if (index < 0) return;
    const last = this.heap.pop() as T;
    entry.queueIndex = -1;
    if (index === this.heap.length) return;
    this.heap[index] = last;
    last.queueIndex = index;
    this.down(this.up(index));
  }

  private less(a: number, b: number): boolean {
    const x = this.heap[a] as T;
    const y = this.heap[b] as T;
    const dx = x.dueAt as number;
    const dy = y.dueAt as number;
    return dx < dy || (dx === dy && ((x.rank ?? 0) - this.offset) >>> 0 < ((y.rank ?? 0) - this.offset) >>> 0);
  }

  private swap(a: number, b: number): void {
    const x = this.heap[a] as T;
    const y = this.heap[b] as T;
    this.heap[a] = y;
    this.heap[b] = x;
    x.queueIndex = b;
    y.queueIndex = a;
  }

  private up(index: number): number {
    let i = index;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
    return i;
  }

  private down(index: number): number {
    let i = index;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < this.heap.length && this.less(left, smallest)) smallest = left;
      if (right < this.heap.length && this.less(right, smallest)) smallest = right;
      if (smallest === i) return i;
      this.swap(i, smallest);
      i = smallest;
    }
  }
}
