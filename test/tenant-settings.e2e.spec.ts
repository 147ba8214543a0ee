/** Tenant settings over HTTP: defaults, an admin update recorded in the log, roles, isolation, refusals. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { createTestApp, type TestApp } from './support/test-app.js';

describe('tenant settings (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  const settings = {
    amplification: {
      defaultMaxDepth: 4,
      defaultConfidenceThreshold: 0.75,
      taskClasses: { arithmetic: { maxDepth: 6, confidenceThreshold: 0.9 } },
    },
    promotionGates: { minFidelity: 0.85, maxDrift: 0.15, minAgreement: 0.8, maxRecalibrationAgeDays: 14 },
  };

  it('serves the defaults until an admin sets settings; the update is a signed entry on tenant-<t>', async () => {
    const reader = await t.token('pipeline', 'acme');
    const before = await request(t.server).get('/v1/tenant/settings').auth(reader, { type: 'bearer' }).expect(200);
    expect(before.body).toMatchObject({ tenant: 'acme', revision: -1, settings: { amplification: { defaultMaxDepth: 3 } } });

    const admin = await t.token('admin', 'acme');
    const put = await request(t.server)
      .put('/v1/tenant/settings')
      .auth(admin, { type: 'bearer' })
      .set('Idempotency-Key', 'settings-1')
      .send({ settings })
      .expect(200);
    expect(put.body).toEqual({ tenant: 'acme', settings, revision: 0 });
    expect(put.headers['etag']).toBe('"0"');

    const entries = await t.ledger.store.readStream('tenant-acme');
    expect(entries.map((e) => [e.entry.type, e.entry.meta.actor.role])).toEqual([['TenantSettingsUpdated', 'admin']]);

    // A retry with the same key appends nothing and answers the first result.
    const size = await t.ledger.store.size();
    const retry = await request(t.server)
      .put('/v1/tenant/settings')
      .auth(admin, { type: 'bearer' })
      .set('Idempotency-Key', 'settings-1')
      .send({ settings })
      .expect(200);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(await t.ledger.store.size()).toBe(size);

    const after = await request(t.server).get('/v1/tenant/settings').auth(reader, { type: 'bearer' }).expect(200);
    expect(after.body).toEqual({ tenant: 'acme', settings, revision: 0 });

    // Another tenant still sees its own defaults.
    const other = await t.token('pipeline', 'globex');
    const theirs = await request(t.server).get('/v1/tenant/settings').auth(other, { type: 'bearer' }).expect(200);
    expect(theirs.body.revision).toBe(-1);
  });

  it('refuses non-admins (403), invalid documents (400) and unchanged settings (422), appending nothing', async () => {
    const size = await t.ledger.store.size();
    const pipeline = await t.token('pipeline', 'acme');
    await request(t.server).put('/v1/tenant/settings').auth(pipeline, { type: 'bearer' }).send({ settings }).expect(403);

    const admin = await t.token('admin', 'acme');
    const bad = { ...settings, promotionGates: { ...settings.promotionGates, minFidelity: 2 } };
    const invalid = await request(t.server).put('/v1/tenant/settings').auth(admin, { type: 'bearer' }).send({ settings: bad }).expect(400);
    expect(invalid.body.code).toBe('REQUEST.VALIDATION_FAILED');
    const same = await request(t.server).put('/v1/tenant/settings').auth(admin, { type: 'bearer' }).send({ settings }).expect(422);
    expect(same.body.code).toBe('TENANT.SETTINGS_UNCHANGED');
    expect(await t.ledger.store.size()).toBe(size);
  });
});
