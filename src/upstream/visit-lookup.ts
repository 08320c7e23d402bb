/**
 * The result of asking the booking platform about a visitor registration code
 * (upstream-api.md section 6). Shared seam between the upstream client, which produces it,
 * and the visitor gate, which decides from it.
 */
export type VisitStatus = 'expected' | 'checked_in' | 'checked_out' | 'cancelled';

export interface VisitInfo {
  visitId: string;
  status: VisitStatus;
  /** ms since epoch */
  validFrom: number;
  /** ms since epoch */
  validTo: number;
  visitorEmail: string | null;
  hostEmail: string | null;
}

export type VisitLookup =
  | { kind: 'found'; visit: VisitInfo }
  /** 404: the platform does not know the code. */
  | { kind: 'unknown' }
  /**
   * The platform answered 200 with a body that does not match the contract (a status this
   * version does not know, say). It did answer, so this is no outage: never the offline cache.
   */
  | { kind: 'unreadable'; error: string }
  /** Timeout, network error, 401, 429 or 5xx. */
  | { kind: 'unreachable'; error: string };

export interface VisitVerifier {
  verifyVisit(registrationCode: string, deviceId: string, timeoutMs: number): Promise<VisitLookup>;
}
