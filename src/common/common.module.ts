/**
 * Cross-cutting providers every context needs: the Clock, the IdGenerator and the problem+json filter.
 * Global, so bounded-context modules inject CLOCK / ID_GENERATOR without importing it. Tests swap them with
 * `.overrideProvider(CLOCK).useValue(new FixedClock(...))`.
 */
import { Global, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { CLOCK, SystemClock } from './clock.js';
import { ID_GENERATOR, UuidV7IdGenerator } from './ids.js';
import { ProblemDetailsFilter } from './problem/problem-details.filter.js';

@Global()
@Module({
  providers: [
    { provide: CLOCK, useClass: SystemClock },
    { provide: ID_GENERATOR, useClass: UuidV7IdGenerator },
    { provide: APP_FILTER, useClass: ProblemDetailsFilter },
  ],
  exports: [CLOCK, ID_GENERATOR],
})
export class CommonModule {}
