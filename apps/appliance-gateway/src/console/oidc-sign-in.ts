import { Injectable, Logger } from '@nestjs/common';
import { consoleConfig, loadConfig, type ConsoleConfig } from '@openecm/config';
import { ConsoleRole, OpenEcmError } from '@openecm/contracts';
import * as oidc from 'openid-client';

/** How long the gateway waits for the identity provider (discovery, token, userinfo). */
const IDP_TIMEOUT_SECONDS = 10;

export interface SignInStart {
  url: string;
  state: string;
  codeVerifier: string;
  nonce: string;
}

export interface SignedInPerson {
  subject: string;
  name: string;
  email: string | null;
  roles: ConsoleRole[];
  idToken: string | null;
}

/** The roles the role map gives to the values of the role claim (a string, a list of strings, or absent). */
export function rolesOf(claim: unknown, map: ConsoleConfig['OIDC_ROLE_MAP']): ConsoleRole[] {
  const values = typeof claim === 'string' ? [claim] : Array.isArray(claim) ? claim.filter((v): v is string => typeof v === 'string') : [];
  const roles = new Set(map.filter((entry) => values.includes(entry.value)).map((entry) => entry.role));
  return ConsoleRole.options.filter((role) => roles.has(role));
}

const text = (value: unknown): string | null => (typeof value === 'string' && value.trim() !== '' ? value : null);

/**
 * The gateway as an OpenID Connect relying party (openid-client): the authorization code flow with PKCE (S256),
 * state and nonce, the ID token checked, the role claim read from it or else from userinfo. The identity
 * provider's metadata is discovered at the first sign-in, not at start, so a gateway starts while its identity
 * provider is down and the rest of the API is unaffected.
 */
@Injectable()
export class OidcSignIn {
  private readonly config = loadConfig(consoleConfig);
  private readonly logger = new Logger('console');
  private discovered?: Promise<oidc.Configuration>;

  get configured(): boolean {
    return this.config.OIDC_ISSUER !== undefined;
  }

  private client(): Promise<oidc.Configuration> {
    const { OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET } = this.config;
    if (!OIDC_ISSUER || !OIDC_CLIENT_ID) throw new OpenEcmError('NOT_FOUND', 'sign-in to the console is not configured');
    const issuer = new URL(OIDC_ISSUER);
    this.discovered ??= oidc
      .discovery(
        issuer,
        OIDC_CLIENT_ID,
        OIDC_CLIENT_SECRET ? { client_secret: OIDC_CLIENT_SECRET } : undefined,
        OIDC_CLIENT_SECRET ? oidc.ClientSecretBasic(OIDC_CLIENT_SECRET) : oidc.None(),
        // plain http is accepted for a loopback issuer only (the config refuses any other)
        { timeout: IDP_TIMEOUT_SECONDS, ...(issuer.protocol === 'http:' ? { execute: [oidc.allowInsecureRequests] } : {}) },
      )
      .catch((error: unknown) => {
        this.discovered = undefined;
        this.logger.warn({ event: 'console.discovery.failed', err: error instanceof Error ? error.name : typeof error, msg: 'the identity provider could not be discovered' });
        throw new OpenEcmError('SERVICE_UNAVAILABLE', 'the identity provider cannot be reached; try again shortly');
      });
    return this.discovered;
  }

  async start(): Promise<SignInStart> {
    const client = await this.client();
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(client, {
      redirect_uri: this.config.OIDC_REDIRECT_URI as string,
      scope: this.config.OIDC_SCOPES,
      response_type: 'code',
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return { url: url.href, state, codeVerifier, nonce };
  }

  /**
   * Redeems the code of the callback. The callback's URL is rebuilt from OIDC_REDIRECT_URI and the query, never
   * from the request's Host header.
   */
  async finish(query: Record<string, string>, pending: { codeVerifier: string; nonce: string; state: string }): Promise<SignedInPerson> {
    const client = await this.client();
    const callback = new URL(this.config.OIDC_REDIRECT_URI as string);
    for (const [name, value] of Object.entries(query)) callback.searchParams.set(name, value);
    const tokens = await oidc.authorizationCodeGrant(client, callback, {
      pkceCodeVerifier: pending.codeVerifier,
      expectedNonce: pending.nonce,
      expectedState: pending.state,
      idTokenExpected: true,
    });
    const claims = tokens.claims();
    if (!claims) throw new Error('no ID token');
    let source: Record<string, unknown> = claims;
    if (claims[this.config.OIDC_ROLE_CLAIM] === undefined) {
      source = { ...(await oidc.fetchUserInfo(client, tokens.access_token, claims.sub)), ...claims };
    }
    return {
      subject: claims.sub,
      name: text(source['name']) ?? text(source['preferred_username']) ?? claims.sub,
      email: text(source['email']),
      roles: rolesOf(source[this.config.OIDC_ROLE_CLAIM], this.config.OIDC_ROLE_MAP),
      idToken: tokens.id_token ?? null,
    };
  }

  /** The identity provider's end-session address for this ID token, when it publishes one. */
  async endSessionUrl(idToken: string | null, fallbackReturn: string): Promise<string | null> {
    const client = await this.client().catch(() => undefined);
    if (!client?.serverMetadata().end_session_endpoint) return null;
    return oidc
      .buildEndSessionUrl(client, {
        ...(idToken ? { id_token_hint: idToken } : {}),
        post_logout_redirect_uri: this.config.OIDC_POST_LOGOUT_REDIRECT_URI ?? fallbackReturn,
      })
      .toString();
  }

  /** The console's address, from the callback's (the same origin serves both). */
  consoleUrl(): string {
    return new URL('/console', this.config.OIDC_REDIRECT_URI as string).href;
  }
}
