import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { createTestApp, type TestApp } from './support/test-app.js';

describe('GET /metrics (Prometheus)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('is public and exposes the log size, the checkpoint size and HTTP requests by route pattern', async () => {
    const token = await t.token('pipeline', 'acme');
    const opened = await request(t.server)
      .post('/v1/queries')
      .set('Authorization', `Bearer ${token}`)
      .send({ task: 'What is 2+2?', input: { xs: [2, 2] } })
      .expect(201);
    await request(t.server).get(`/v1/queries/${opened.body.queryId}`).set('Authorization', `Bearer ${token}`).expect(200);

    const response = await request(t.server).get('/metrics').expect(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    const size = await t.ledger.store.size();
    expect(response.text).toContain(`ida_ledger_log_entries ${size}`);
    expect(response.text).toMatch(/^ida_ledger_checkpoint_size \d+$/m);
    expect(response.text).toContain('ida_ledger_http_requests_total{method="POST",route="/v1/queries",status="201"} 1');
    // Route patterns, never raw ids: one series for every query read.
    expect(response.text).toContain('route="/v1/queries/:queryId"');
    expect(response.text).not.toContain(opened.body.queryId);
    expect(response.text).toContain('ida_ledger_process_cpu_seconds_total');
  });
});
