import { Gauge, type Registry } from 'prom-client';
import { readLinkFiles, type Link, type LinkFault, type LinkFile } from './config/preflight.js';

/**
 * The files the MQTT and platform links read (password, token, TLS), held in memory once read.
 * A file that cannot be used faults its link instead of the gateway: the link waits, shown as a
 * fault on /health and in `lintel_secret_file_fault{field}`, and `refresh()` — called by the
 * gateway's retry timer — reads the faulted files again, so fixing the file heals the link.
 */
export class LinkFiles {
  private readonly data = new Map<string, Buffer>();
  private faults: LinkFault[] = [];

  constructor(
    private files: readonly LinkFile[],
    registry: Registry,
  ) {
    this.read(files);
    // prom-client calls collect() with the gauge as `this`, so the files are read through a closure.
    const fieldFaults = () => this.files.map((f) => ({ field: f.field, faulted: this.faults.some((x) => x.field === f.field) }));
    new Gauge({
      name: 'lintel_secret_file_fault',
      help: '1 while a file a link needs (token, password, TLS) cannot be used; the link waits for it',
      labelNames: ['field'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const f of fieldFaults()) this.set({ field: f.field }, f.faulted ? 1 : 0);
      },
    });
  }

  /** A reload's files: all read again, so a moved token file shows as what it is now. */
  replace(files: readonly LinkFile[]): void {
    this.files = files;
    this.faults = [];
    this.read(files);
  }

  /** Re-reads the files of faulted links; returns the links that became usable. */
  refresh(): Link[] {
    const faulted = new Set(this.faults.map((f) => f.link));
    if (faulted.size === 0) return [];
    this.faults = [];
    this.read(this.files.filter((f) => faulted.has(f.link)));
    return [...faulted].filter((l) => this.ready(l));
  }

  ready(link: Link): boolean {
    return !this.faults.some((f) => f.link === link);
  }

  /** A file that was read (buildClientOptions calls this for the password and TLS files). */
  file(path: string): Buffer {
    const d = this.data.get(path);
    if (!d) throw new Error(`${path} has not been read`);
    return d;
  }

  text(path: string): string {
    return this.file(path).toString('utf8').trim();
  }

  list(): readonly LinkFault[] {
    return this.faults;
  }

  private read(files: readonly LinkFile[]): void {
    const { reads, faults } = readLinkFiles(files);
    for (const [path, r] of reads) this.data.set(path, r.data);
    this.faults.push(...faults);
  }
}
