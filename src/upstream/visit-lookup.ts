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
  /** Timeout, network error, 401, 429, 5xx or a body that does not match the contract. */
  | { kind: 'unreachable'; error: string };

export interface VisitVerifier {
  verifyVisit(registrationCode: string, deviceId: string, timeoutMs: number): Promise<VisitLookup>;
}
