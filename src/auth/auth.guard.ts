/**
 * The global bearer-token guard (DESIGN §8). Every route needs `Authorization: Bearer <jwt>` unless marked
 * `@Public()`; `@Roles(...)` narrows who may call. Failures are LedgerErrors, rendered by the problem filter
 * (which adds `WWW-Authenticate` to 401s).
 */
import { Inject, Injectable, Optional, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { LedgerError } from '../common/ledger-error.js';
import { IS_PUBLIC_KEY, ROLES_KEY } from './auth.decorators.js';
import { attachPrincipal } from './authenticated-request.js';
import type { TokenRole } from './principal.js';
import { unauthenticated } from './token-claims.js';
import { TOKEN_VERIFIER, type TokenVerifier } from './token-verifier.port.js';
import { WORKER_KEY_DIRECTORY, type WorkerKeyDirectory } from './worker-keys.port.js';
import { verifyWorkerToken, workerKeyOf } from './worker-token-verifier.js';

/** RFC 6750 §2.1: `Bearer` (any case), one or more spaces, a b64token. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/iu;

@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(TOKEN_VERIFIER) private readonly verifier: TokenVerifier,
    /** Registered inference workers (src/inference): a token whose kid is one of their keys is theirs. */
    @Optional() @Inject(WORKER_KEY_DIRECTORY) private readonly workers?: WorkerKeyDirectory,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, targets)) return true;
    // Only HTTP is served; any other transport reaching here is unexpected, so fail closed.
    if (context.getType() !== 'http') return false;

    const request = context.switchToHttp().getRequest<Request>();
    const header = request.headers.authorization;
    if (header === undefined || header === '') throw unauthenticated('no bearer token (send "Authorization: Bearer <jwt>")');
    const match = BEARER.exec(header);
    if (!match) throw unauthenticated('the Authorization header is not a Bearer token');

    const bearer = match[1]!;
    const worker = this.workers === undefined ? undefined : workerKeyOf(bearer, this.workers);
    const principal = worker === undefined ? await this.verifier.verify(bearer) : await verifyWorkerToken(bearer, worker);

    const roles = this.reflector.getAllAndOverride<TokenRole[] | undefined>(ROLES_KEY, targets);
    if (roles && !(roles as readonly string[]).includes(principal.role)) {
      throw new LedgerError('AUTH.FORBIDDEN_ROLE', 'forbidden', `Role "${principal.role}" may not call this operation.`, {
        requiredRoles: roles,
      });
    }
    attachPrincipal(request, principal);
    return true;
  }
}
