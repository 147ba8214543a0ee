/** Tenant isolation (DESIGN §2): no token of tenant A reads or writes anything of B. */
import { LedgerError } from '../common/ledger-error.js';
import type { Principal } from './principal.js';

/** Throws 403 AUTH.TENANT_FORBIDDEN unless `principal` belongs to `tenant`. Call it before reading or deciding. */
export function assertSameTenant(principal: Principal, tenant: string): void {
  // Neither tenant is named in the error: the other tenant's name is not the caller's to learn.
  if (principal.tenant !== tenant) {
    throw new LedgerError('AUTH.TENANT_FORBIDDEN', 'forbidden', 'This resource belongs to another tenant.');
  }
}
