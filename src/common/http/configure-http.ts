/**
 * Express-level settings that must be in place before `app.init()`. Create the app with
 * `{ bodyParser: false }` so that JSON is the only body format parsed (ZodBody answers 415 to the rest).
 */
import type { NestExpressApplication } from '@nestjs/platform-express';

export interface HttpOptions {
  /** Largest JSON body, in body-parser notation ('256kb'); larger ones get 413 REQUEST.BODY_TOO_LARGE. */
  bodyLimit: string;
}

export function configureHttp(app: NestExpressApplication, options: HttpOptions): NestExpressApplication {
  // `strict`: only objects and arrays at the top level; `type`: other media types stay unparsed.
  app.useBodyParser('json', { limit: options.bodyLimit, strict: true, type: 'application/json' });
  // Naming the framework only helps whoever scans for its known bugs.
  app.disable('x-powered-by');
  return app;
}
