/** Who is calling: the authenticated subject, its role and its tenant (DESIGN §2, §8). Plain TypeScript. */
import type { Role } from '../ledger/entry.js';

/** Roles a bearer token may carry. `system` is the ledger's own role and is never accepted from a token. */
export const TOKEN_ROLES = ['pipeline', 'overseer', 'worker', 'auditor', 'compliance', 'admin'] as const;
export type TokenRole = (typeof TOKEN_ROLES)[number];

export interface Principal {
  /** Subject (`sub` claim): the user or service account. */
  sub: string;
  role: Role;
  /** Tenant the principal belongs to; it reads and writes this tenant only. */
  tenant: string;
  /**
   * Set only for an inference worker authenticated by a token it signed itself with its registered key (the
   * key's thumbprint): what leasing requires (docs/policy-gate.md "Workers").
   */
  workerKid?: string;
}

export function isTokenRole(value: unknown): value is TokenRole {
  return typeof value === 'string' && (TOKEN_ROLES as readonly string[]).includes(value);
}
