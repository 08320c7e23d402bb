/**
 * Door ids as the small integers records hold (a window key's high part, record-layout.ts).
 * Every door ever seen gets a number, configured or only named by a grant, and keeps it for
 * the index's life (a handful of doors): a record never has to be rewritten because the
 * configuration changed. Only configured doors are answered by `configured`, so a grant for a
 * door that was removed opens nothing.
 */
export class DoorNumbers {
  private numbers = new Map<string, number>();
  private ids: string[] = [];
  private configuredDoors = new Map<string, number>();

  /** The number of a configured door, or -1. */
  configured(id: string): number {
    return this.configuredDoors.get(id) ?? -1;
  }

  get configuredCount(): number {
    return this.configuredDoors.size;
  }

  setConfigured(ids: Iterable<string>): void {
    const next = new Map<string, number>();
    for (const id of ids) next.set(id, this.numberOf(id));
    this.configuredDoors = next;
  }

  /** The door's number, given one now if it has none. */
  numberOf(id: string): number {
    let n = this.numbers.get(id);
    if (n === undefined) {
      n = this.ids.length;
      this.numbers.set(id, n);
      this.ids.push(id);
    }
    return n;
  }

  idOf(n: number): string | undefined {
    return this.ids[n];
  }

  /** Ids in number order, and the configured ones: what a snapshot stores. */
  exportState(): { doorNumbers: string[]; configuredDoors: string[] } {
    return { doorNumbers: [...this.ids], configuredDoors: [...this.configuredDoors.keys()] };
  }

  importState(doorNumbers: readonly string[], configuredDoors: readonly string[]): void {
    this.ids = [...doorNumbers];
    this.numbers = new Map(this.ids.map((id, n) => [id, n]));
    this.setConfigured(configuredDoors);
  }
}
