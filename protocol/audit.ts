// The security audit log: one JSON line per security event, shared by the edge and `npm run keys`.
// Every field is named here, so no call site can put a credential, a token or a body into a line:
// ids, reasons, model names and addresses only.

export type AuditEvent =
  | { event: 'key-created'; keyId: string; owner: string; plan: string; models: '*' | readonly string[]; namespace: string }
  | { event: 'key-revoked'; keyId: string; owner: string; namespace: string }
  | {
      event: 'auth-failed';
      /** The fixed sentence the caller was told (never anything the caller sent). */
      reason: string;
      credential: 'api-key' | 'jwt' | 'none' | 'unknown';
      ip: string;
      path: string;
      requestId: string | undefined;
    }
  | { event: 'auth-throttled'; ip: string; path: string; requestId: string | undefined }
  | { event: 'scope-refused'; principal: string; models: readonly string[]; path: string; ip: string; requestId: string | undefined }
  | { event: 'signature-refused'; by: 'backend'; path: string; requestId: string | undefined }
  | { event: 'model-integrity-failed'; model: string; version: string; file: string; tier: 'edge' | 'gpu' };

export type AuditLog = (event: AuditEvent) => void;

/** The line for one event: `audit: true` marks it apart from request and diagnostic lines. */
export function auditLine(event: AuditEvent, atMs: number): string {
  return JSON.stringify({ audit: true, ...event, at: new Date(atMs).toISOString() });
}

/** An audit log that writes each event as one line to `log`. */
export function auditLog(log: (line: string) => void, now: () => number = () => Date.now()): AuditLog {
  return (event) => log(auditLine(event, now()));
}
