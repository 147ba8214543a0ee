import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { NextFunction, Request, Response } from 'express';
import type { EmbeddedLedger } from '../ledger/embedded-ledger.js';

export const METRICS_REGISTRY = 'ida-ledger:MetricsRegistry';

/**
 * Prometheus metrics (DESIGN §8): process defaults, the log's size and last checkpoint, and HTTP requests by
 * route and status. One registry per application instance, so tests can run several apps in one process.
 */
export function createMetrics(ledger: EmbeddedLedger): { registry: Registry; middleware: (req: Request, res: Response, next: NextFunction) => void } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'ida_ledger_' });
  new Gauge({
    name: 'ida_ledger_log_entries',
    help: 'Integrated entries (Merkle tree size)',
    registers: [registry],
    collect() {
      this.set(ledger.tree.size);
    },
  });
  new Gauge({
    name: 'ida_ledger_checkpoint_size',
    help: 'Tree size of the latest signed checkpoint',
    registers: [registry],
    async collect() {
      this.set((await ledger.checkpoints.latest())?.size ?? 0);
    },
  });
  const requests = new Counter({
    name: 'ida_ledger_http_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'ida_ledger_http_request_duration_seconds',
    help: 'HTTP request duration by method and route',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const middleware = (req: Request, res: Response, next: NextFunction) => {
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      // The route pattern, never the raw path: ids in paths would make a label per query.
      const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      requests.inc({ method: req.method, route, status: String(res.statusCode) });
      duration.observe({ method: req.method, route }, Number(process.hrtime.bigint() - start) / 1e9);
    });
    next();
  };
  return { registry, middleware };
}
