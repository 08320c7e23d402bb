/**
 * At most one fetch per key (resource + date) at a time. A request that arrives while one is in
 * flight marks the key dirty and shares a single follow-up run that starts after the current one
 * completes. So the last list applied for a key was always fetched after the last event that
 * named it — which is what makes duplicate and out-of-order callbacks harmless.
 */
export class FetchCoalescer<T> {
  private readonly running = new Map<string, { dirty: boolean; next: Promise<T> | null; current: Promise<T> }>();

  constructor(private readonly job: (key: string) => Promise<T>) {}

  /** Resolves with the result of a run that started after this call. */
  request(key: string): Promise<T> {
    const entry = this.running.get(key);
    if (entry) {
      if (!entry.next) {
        entry.dirty = true;
        entry.next = entry.current.then(
          () => this.rerun(key),
          () => this.rerun(key),
        );
      }
      return entry.next;
    }
    return this.start(key);
  }

  inFlight(): number {
    return this.running.size;
  }

  /** Resolves when nothing is in flight any more (tests, stop()). */
  async idle(): Promise<void> {
    while (this.running.size > 0) {
      await Promise.allSettled([...this.running.values()].map((e) => e.next ?? e.current));
    }
  }

  private start(key: string): Promise<T> {
    const entry = { dirty: false, next: null as Promise<T> | null, current: null as unknown as Promise<T> };
    this.running.set(key, entry);
    entry.current = this.job(key).finally(() => {
      if (!entry.dirty && this.running.get(key) === entry) this.running.delete(key);
    });
    return entry.current;
  }

  private rerun(key: string): Promise<T> {
    this.running.delete(key);
    return this.start(key);
  }
}
