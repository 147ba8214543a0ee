/** Route metadata for the AuthGuard, and the parameter decorator that hands the principal to a handler. */
import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import { LedgerError } from '../common/ledger-error.js';
import type { Principal, TokenRole } from './principal.js';
import { principalOf } from './authenticated-request.js';

export const IS_PUBLIC_KEY = 'ida-ledger:auth:public';
export const ROLES_KEY = 'ida-ledger:auth:roles';

/** No token needed (health, metrics, JWKS, docs). On a method or a whole controller. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC_KEY, true);

/**
 * Only these roles may call (else 403 AUTH.FORBIDDEN_ROLE). On a method or a controller; the method's list
 * wins. Without `@Roles`, any authenticated role may call.
 */
export const Roles = (...roles: [TokenRole, ...TokenRole[]]): MethodDecorator & ClassDecorator => SetMetadata(ROLES_KEY, roles);

/** `@CurrentPrincipal() principal: Principal` on a route behind the AuthGuard. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  const principal = principalOf(context.switchToHttp().getRequest());
  // Only reachable on a @Public route: a programming error, so a logged 500 rather than a 401.
  if (!principal) throw new LedgerError('INTERNAL.NO_PRINCIPAL', 'internal', '@CurrentPrincipal() used on a route without authentication');
  return principal;
});
