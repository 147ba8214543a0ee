/**
 * The one global exception filter: every error leaves the service as RFC 9457 `application/problem+json`
 * with a stable `code` (DESIGN §8). Register it once, either with `app.useGlobalFilters(new
 * ProblemDetailsFilter())` or as `{ provide: APP_FILTER, useClass: ProblemDetailsFilter }` (CommonModule does).
 * It also sees body-parser errors and unknown routes, because Nest routes those through global filters too.
 */
import { Catch, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { describeError, PROBLEM_CONTENT_TYPE, toProblemDocument } from './problem-details.js';

/** RFC 6750 §3: the realm named in `WWW-Authenticate` on every 401. */
export const AUTH_REALM = 'ida-ledger';

@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemDetails');

  catch(exception: unknown, host: ArgumentsHost): void {
    // Only HTTP exists in this service; other transports keep Nest's default behaviour.
    if (host.getType() !== 'http') return;
    const request = host.switchToHttp().getRequest<Request>();
    const response = host.switchToHttp().getResponse<Response>();

    // Express sets `req.route` once a route matched; Nest's "no route" 404 is thrown without one.
    const problem = describeError(exception, { routeMatched: request.route !== undefined });
    // The query string may carry ids or tokens a client should not see echoed into logs or bodies.
    const instance = (request.originalUrl ?? request.url ?? '').split('?')[0] ?? '';

    if (problem.serverFault) {
      const stack = exception instanceof Error ? exception.stack : String(exception);
      this.logger.error(`${request.method} ${instance} -> ${problem.status} ${problem.code}`, stack);
    }

    if (response.headersSent) {
      // Part of a body is already out (a stream): destroying the socket is the only way to tell the
      // client the response is incomplete; ending it cleanly would pass a truncated export as whole.
      response.destroy();
      return;
    }

    response.status(problem.status);
    response.setHeader('Content-Type', PROBLEM_CONTENT_TYPE);
    response.setHeader('Cache-Control', 'no-store');
    if (problem.status === 401) {
      // RFC 6750 §3.1: name the error only when a token was actually presented.
      const presented = /^bearer\s/iu.test(request.headers.authorization ?? '');
      response.setHeader('WWW-Authenticate', presented ? `Bearer realm="${AUTH_REALM}", error="invalid_token"` : `Bearer realm="${AUTH_REALM}"`);
    }
    response.json(toProblemDocument(problem, instance));
  }
}
