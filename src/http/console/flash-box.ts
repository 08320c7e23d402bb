import type { Flash } from './views/status-view.js';

/*
 * The message an action leaves for the page the browser is sent back to (POST-redirect-GET).
 * Kept here, keyed by the session's CSRF token, and taken once: never in the URL, where a link
 * could fake one, and learn mode's unmasked card reaches only the admin who armed the reader.
 * Bounded: the oldest is forgotten first.
 */
export class FlashBox {
  private readonly byToken = new Map<string, Flash>();

  constructor(private readonly capacity = 500) {}

  put(token: string, flash: Flash): void {
    this.byToken.delete(token);
    this.byToken.set(token, flash);
    if (this.byToken.size > this.capacity) this.byToken.delete(this.byToken.keys().next().value!);
  }

  take(token: string): Flash | null {
    const f = this.byToken.get(token) ?? null;
    this.byToken.delete(token);
    return f;
  }
}
