/** Where the AuthGuard leaves the principal on the (Express) request. */
import type { Principal } from './principal.js';

/** Property name on the request; a symbol, so no body or header parser can ever set it. */
export const PRINCIPAL = Symbol('ida-ledger.principal');

export type AuthenticatedRequest = { [PRINCIPAL]?: Principal };

export function principalOf(request: object): Principal | undefined {
  return (request as AuthenticatedRequest)[PRINCIPAL];
}

export function attachPrincipal(request: object, principal: Principal): void {
  (request as AuthenticatedRequest)[PRINCIPAL] = principal;
}
