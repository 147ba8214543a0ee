/**
 * Registers the global AuthGuard and its TokenVerifier:
 *   AuthModule.forRoot({ verifier })                       // a ready instance (tests, CLI)
 *   AuthModule.forRoot({ useFactory, inject: [...] })      // built from config at start
 */
import { Module, type DynamicModule, type InjectionToken, type OptionalFactoryDependency, type Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthGuard } from './auth.guard.js';
import { TOKEN_VERIFIER, type TokenVerifier } from './token-verifier.port.js';

export type AuthModuleOptions =
  | { verifier: TokenVerifier }
  | {
      useFactory: (...deps: never[]) => TokenVerifier | Promise<TokenVerifier>;
      inject?: (InjectionToken | OptionalFactoryDependency)[];
    };

@Module({})
export class AuthModule {
  static forRoot(options: AuthModuleOptions): DynamicModule {
    const verifier: Provider =
      'verifier' in options
        ? { provide: TOKEN_VERIFIER, useValue: options.verifier }
        : { provide: TOKEN_VERIFIER, useFactory: options.useFactory as (...deps: unknown[]) => TokenVerifier, inject: options.inject ?? [] };
    return {
      module: AuthModule,
      global: true,
      providers: [verifier, { provide: APP_GUARD, useClass: AuthGuard }],
      exports: [TOKEN_VERIFIER],
    };
  }
}
