/**
 * Boots a tiny Nest app wired like the service (CommonModule, AuthModule, configureHttp) with a throwaway
 * controller, and checks the wire: problem+json shapes, statuses, codes, auth headers, and that DI works
 * under @swc/jest (decorator metadata).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { Controller, Get, Inject, Injectable, Param, Post, type INestApplication, type LoggerService } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { z } from 'zod';
import { AuthModule } from '../auth/auth.module.js';
import { CurrentPrincipal, Public, Roles } from '../auth/auth.decorators.js';
import { LocalKeyTokenVerifier } from '../auth/local-key-token-verifier.js';
import type { Principal } from '../auth/principal.js';
import { assertSameTenant } from '../auth/tenant.js';
import { mintDevelopmentToken } from '../auth/token-issuer.js';
import { CLOCK, FixedClock, type Clock } from './clock.js';
import { CommonModule } from './common.module.js';
import { IdempotencyKey, IfMatch } from './http/command-headers.js';
import { configureHttp } from './http/configure-http.js';
import { ID_GENERATOR, SequentialIdGenerator, type IdGenerator } from './ids.js';
import { LedgerError } from './ledger-error.js';
import { ZodBody } from './validation/zod-body.pipe.js';

const CreateThing = z.strictObject({
  name: z.string().min(1),
  count: z.number().int().nonnegative(),
  note: z.string().optional(),
});
type CreateThing = z.infer<typeof CreateThing>;

@Injectable()
class ThingService {
  constructor(
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ID_GENERATOR) private readonly ids: IdGenerator,
  ) {}

  create(body: CreateThing, principal: Principal, expectedRevision: number | undefined, commandId: string | undefined) {
    return { id: this.ids.newId(), at: this.clock.now().toISOString(), name: body.name, count: body.count, by: principal, expectedRevision, commandId };
  }
}

@Controller('v1')
class ThingController {
  // Injected by type only: this resolves only if swc emitted design:paramtypes.
  constructor(private readonly things: ThingService) {}

  @Public()
  @Get('health')
  health() {
    return { status: 'ok' };
  }

  @Roles('pipeline')
  @Post('things')
  create(
    @ZodBody(CreateThing) body: CreateThing,
    @CurrentPrincipal() principal: Principal,
    @IfMatch() expectedRevision: number | undefined,
    @IdempotencyKey() commandId: string | undefined,
  ) {
    return this.things.create(body, principal, expectedRevision, commandId);
  }

  @Roles('auditor', 'pipeline')
  @Get('tenants/:tenant/things')
  list(@Param('tenant') tenant: string, @CurrentPrincipal() principal: Principal) {
    assertSameTenant(principal, tenant);
    return { tenant, things: [] };
  }

  @Public()
  @Get('boom')
  boom(): never {
    throw new Error('secret connection string postgres://u:p@db');
  }

  @Public()
  @Get('conflict')
  conflict(): never {
    throw new LedgerError('LEDGER.REVISION_CONFLICT', 'conflict', 'Stream thing-1 is at revision 4.', { expectedRevision: 3, actualRevision: 4 });
  }
}

class CapturingLogger implements LoggerService {
  readonly errors: string[] = [];
  log(): void {}
  warn(): void {}
  debug(): void {}
  verbose(): void {}
  error(message: unknown, ...rest: unknown[]): void {
    this.errors.push([message, ...rest].map(String).join(' '));
  }
}

const keys = generateKeyPairSync('ed25519');
const strangerKeys = generateKeyPairSync('ed25519');
const logger = new CapturingLogger();
let app: INestApplication;
let pipelineToken: string;
let auditorToken: string;

const token = (role: 'pipeline' | 'auditor' | 'overseer', privateKey = keys.privateKey) =>
  mintDevelopmentToken({ privateKey, kid: 'dev', sub: `${role}-1`, role, tenant: 'acme' });

beforeAll(async () => {
  const moduleRef = await Test.createTestingModule({
    imports: [CommonModule, AuthModule.forRoot({ verifier: new LocalKeyTokenVerifier({ publicKey: keys.publicKey }) })],
    controllers: [ThingController],
    providers: [ThingService],
  })
    .overrideProvider(CLOCK)
    .useValue(new FixedClock('2025-03-04T05:06:07.000Z'))
    .overrideProvider(ID_GENERATOR)
    .useValue(new SequentialIdGenerator())
    .compile();
  const expressApp = moduleRef.createNestApplication<NestExpressApplication>({ bodyParser: false, logger });
  configureHttp(expressApp, { bodyLimit: '64kb' }); // app.useBodyParser('json', { limit: '64kb', ... })
  app = await expressApp.init();
  [pipelineToken, auditorToken] = await Promise.all([token('pipeline'), token('auditor')]);
});

afterAll(async () => {
  await app?.close();
});

const http = () => request(app.getHttpServer());
const validBody = { name: 'widget', count: 2 };

/** Asserts the RFC 9457 envelope and returns the body. */
function expectProblem(res: request.Response, status: number, code: string, instance: string): Record<string, any> {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({
    type: `https://ida-ledger.dev/problems/${code.toLowerCase().replaceAll('.', '/')}`,
    title: expect.any(String),
    status,
    detail: expect.any(String),
    code,
    instance,
  });
  expect(JSON.stringify(res.body)).not.toMatch(/at .*\.(ts|js):\d+/); // never a stack
  return res.body;
}

describe('HTTP infrastructure', () => {
  it('has decorator metadata, so constructor injection by type works', () => {
    expect(Reflect.getMetadata('design:paramtypes', ThingController)).toEqual([ThingService]);
  });

  it('accepts a valid command: injected clock and ids, principal, If-Match and Idempotency-Key', async () => {
    const res = await http()
      .post('/v1/things')
      .set('Authorization', `Bearer ${pipelineToken}`)
      .set('If-Match', '"3"')
      .set('Idempotency-Key', 'cmd-42')
      .send(validBody);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: '00000000-0000-7000-8000-000000000001',
      at: '2025-03-04T05:06:07.000Z',
      name: 'widget',
      count: 2,
      by: { sub: 'pipeline-1', role: 'pipeline', tenant: 'acme' },
      expectedRevision: 3,
      commandId: 'cmd-42',
    });
  });

  it('serves @Public routes without a token', async () => {
    const res = await http().get('/v1/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('malformed JSON -> 400 REQUEST.MALFORMED_JSON, without quoting the body', async () => {
    const res = await http()
      .post('/v1/things')
      .set('Authorization', `Bearer ${pipelineToken}`)
      .set('Content-Type', 'application/json')
      .send('{"name": "secret-value", ');
    const body = expectProblem(res, 400, 'REQUEST.MALFORMED_JSON', '/v1/things');
    expect(JSON.stringify(body)).not.toContain('secret-value');
  });

  it('unknown field -> 400 REQUEST.VALIDATION_FAILED naming the field', async () => {
    const res = await http().post('/v1/things').set('Authorization', `Bearer ${pipelineToken}`).send({ ...validBody, colour: 'red' });
    const body = expectProblem(res, 400, 'REQUEST.VALIDATION_FAILED', '/v1/things');
    expect(body.errors).toEqual([{ path: '/colour', message: 'Unknown field.' }]);
  });

  it('wrong type -> 400 REQUEST.VALIDATION_FAILED at that path', async () => {
    const res = await http().post('/v1/things').set('Authorization', `Bearer ${pipelineToken}`).send({ name: 'w', count: 'two' });
    const body = expectProblem(res, 400, 'REQUEST.VALIDATION_FAILED', '/v1/things');
    expect(body.errors).toEqual([{ path: '/count', message: expect.stringMatching(/number/) }]);
  });

  it('missing field -> 400 REQUEST.VALIDATION_FAILED', async () => {
    const res = await http().post('/v1/things').set('Authorization', `Bearer ${pipelineToken}`).send({ count: 1 });
    expect(expectProblem(res, 400, 'REQUEST.VALIDATION_FAILED', '/v1/things').errors).toEqual([{ path: '/name', message: expect.any(String) }]);
  });

  it('missing body -> 400 REQUEST.VALIDATION_FAILED', async () => {
    const res = await http().post('/v1/things').set('Authorization', `Bearer ${pipelineToken}`);
    expect(expectProblem(res, 400, 'REQUEST.VALIDATION_FAILED', '/v1/things').errors).toEqual([{ path: '', message: 'A JSON request body is required.' }]);
  });

  it('oversized body -> 413 REQUEST.BODY_TOO_LARGE', async () => {
    const res = await http()
      .post('/v1/things')
      .set('Authorization', `Bearer ${pipelineToken}`)
      .send({ ...validBody, note: 'x'.repeat(70 * 1024) });
    expectProblem(res, 413, 'REQUEST.BODY_TOO_LARGE', '/v1/things');
  });

  it('non-JSON body -> 415 REQUEST.UNSUPPORTED_MEDIA_TYPE', async () => {
    const form = await http().post('/v1/things').set('Authorization', `Bearer ${pipelineToken}`).type('form').send('name=w&count=2');
    expectProblem(form, 415, 'REQUEST.UNSUPPORTED_MEDIA_TYPE', '/v1/things');
    const text = await http().post('/v1/things').set('Authorization', `Bearer ${pipelineToken}`).set('Content-Type', 'text/plain').send('hi');
    expectProblem(text, 415, 'REQUEST.UNSUPPORTED_MEDIA_TYPE', '/v1/things');
  });

  it('no token -> 401 AUTH.UNAUTHENTICATED with WWW-Authenticate: Bearer', async () => {
    const res = await http().post('/v1/things').send(validBody);
    expectProblem(res, 401, 'AUTH.UNAUTHENTICATED', '/v1/things');
    expect(res.headers['www-authenticate']).toBe('Bearer realm="ida-ledger"');
    const basic = await http().get('/v1/tenants/acme/things').set('Authorization', 'Basic dXNlcjpwYXNz');
    expectProblem(basic, 401, 'AUTH.UNAUTHENTICATED', '/v1/tenants/acme/things');
    expect(basic.headers['www-authenticate']).toMatch(/^Bearer /);
  });

  it('bad token -> 401 with error="invalid_token", the token not echoed', async () => {
    const forged = await token('pipeline', strangerKeys.privateKey);
    const res = await http().post('/v1/things').set('Authorization', `Bearer ${forged}`).send(validBody);
    const body = expectProblem(res, 401, 'AUTH.UNAUTHENTICATED', '/v1/things');
    expect(body.detail).toMatch(/invalid signature/);
    expect(JSON.stringify(body)).not.toContain(forged.split('.')[1]);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="ida-ledger", error="invalid_token"');
    const garbage = await http().get('/v1/tenants/acme/things').set('Authorization', 'Bearer not.a.jwt');
    expectProblem(garbage, 401, 'AUTH.UNAUTHENTICATED', '/v1/tenants/acme/things');
  });

  it('wrong role -> 403 AUTH.FORBIDDEN_ROLE listing the allowed roles', async () => {
    const res = await http().post('/v1/things').set('Authorization', `Bearer ${auditorToken}`).send(validBody);
    expect(expectProblem(res, 403, 'AUTH.FORBIDDEN_ROLE', '/v1/things').requiredRoles).toEqual(['pipeline']);
    const overseer = await token('overseer');
    const list = await http().get('/v1/tenants/acme/things').set('Authorization', `Bearer ${overseer}`);
    expectProblem(list, 403, 'AUTH.FORBIDDEN_ROLE', '/v1/tenants/acme/things');
  });

  it('other tenant -> 403 AUTH.TENANT_FORBIDDEN; own tenant -> 200', async () => {
    const other = await http().get('/v1/tenants/globex/things').set('Authorization', `Bearer ${auditorToken}`);
    expectProblem(other, 403, 'AUTH.TENANT_FORBIDDEN', '/v1/tenants/globex/things');
    const own = await http().get('/v1/tenants/acme/things').set('Authorization', `Bearer ${auditorToken}`);
    expect(own.status).toBe(200);
  });

  it('unknown route -> 404 REQUEST.ROUTE_NOT_FOUND (query string not echoed)', async () => {
    const res = await http().get('/v1/nope?token=abc').set('Authorization', `Bearer ${pipelineToken}`);
    const body = expectProblem(res, 404, 'REQUEST.ROUTE_NOT_FOUND', '/v1/nope');
    expect(JSON.stringify(body)).not.toContain('abc');
    // a known path with an unsupported method is a missing route too
    expectProblem(await http().delete('/v1/health'), 404, 'REQUEST.ROUTE_NOT_FOUND', '/v1/health');
  });

  it('invalid If-Match / Idempotency-Key -> 400 with their codes', async () => {
    const auth = { Authorization: `Bearer ${pipelineToken}` };
    expectProblem(await http().post('/v1/things').set(auth).set('If-Match', 'W/"3"').send(validBody), 400, 'REQUEST.INVALID_IF_MATCH', '/v1/things');
    expectProblem(await http().post('/v1/things').set(auth).set('Idempotency-Key', 'no spaces').send(validBody), 400, 'REQUEST.INVALID_IDEMPOTENCY_KEY', '/v1/things');
  });

  it('LedgerError -> its status, code and details', async () => {
    const body = expectProblem(await http().get('/v1/conflict'), 409, 'LEDGER.REVISION_CONFLICT', '/v1/conflict');
    expect(body).toMatchObject({ title: 'Revision conflict', detail: 'Stream thing-1 is at revision 4.', expectedRevision: 3, actualRevision: 4 });
  });

  it('unexpected error -> 500 INTERNAL.UNEXPECTED, logged with its stack, nothing leaked', async () => {
    const before = logger.errors.length;
    const res = await http().get('/v1/boom');
    const body = expectProblem(res, 500, 'INTERNAL.UNEXPECTED', '/v1/boom');
    expect(JSON.stringify(body)).not.toContain('postgres');
    const logged = logger.errors.slice(before).join('\n');
    expect(logged).toContain('INTERNAL.UNEXPECTED');
    expect(logged).toContain('secret connection string'); // the log keeps what the client must not see
  });

  it('documents the zod body and the command headers in OpenAPI', () => {
    const document = SwaggerModule.createDocument(app, new DocumentBuilder().setTitle('t').build());
    const post = document.paths['/v1/things']!.post!;
    const schema = (post.requestBody as any).content['application/json'].schema;
    expect(schema).toMatchObject({ type: 'object', additionalProperties: false, required: ['name', 'count'] });
    const headers = (post.parameters as any[]).filter((p) => p.in === 'header').map((p) => p.name);
    expect(headers).toEqual(expect.arrayContaining(['If-Match', 'Idempotency-Key']));
  });
});
