import request from 'supertest';
import type { TokenRole } from '../../src/auth/principal.js';
import type { TestApp } from './test-app.js';

/**
 * Named callers of a test app, for e2e specs: `mint` a bearer token under a name once (in `beforeAll`), then
 * send requests as that name (`post('/v1/queries', 'pipeline', body)`). Takes a getter because specs create
 * the app in `beforeAll`, after this is set up.
 */
export interface Callers {
  /** Bearer tokens by caller name. */
  readonly tokens: Record<string, string>;
  mint(name: string, role: TokenRole, tenant: string, sub?: string): Promise<void>;
  bearer(name: string): { Authorization: string };
  /** A POST as `who`; the body is sent as JSON when given, else the request has none. */
  post(path: string, who: string, body?: object, headers?: Record<string, string>): request.Test;
  get(path: string, who: string): request.Test;
}

export function callersOf(app: () => TestApp): Callers {
  const tokens: Record<string, string> = {};
  const bearer = (name: string) => ({ Authorization: `Bearer ${tokens[name]}` });
  return {
    tokens,
    bearer,
    mint: async (name, role, tenant, sub) => {
      tokens[name] = await app().token(role, tenant, sub);
    },
    post: (path, who, body, headers = {}) => {
      const req = request(app().server).post(path).set(bearer(who)).set(headers);
      return body === undefined ? req : req.send(body);
    },
    get: (path, who) => request(app().server).get(path).set(bearer(who)),
  };
}
