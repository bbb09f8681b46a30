import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { config } from '../config';
import { db } from '../database';
import { API_KEY_PREFIX, findApiKey, type ApiKeyScope } from './api-keys';
import { dependencyUnavailable, unauthenticated } from './errors';
import { textProblem } from './input';

/** Who is calling, and how they proved it. */
export interface Caller {
  /** The Firebase uid (`sub`), or the user an API key belongs to: every query is scoped by it. */
  userId: string;
  via: 'firebase' | 'api_key';
  /** What the caller may do: a Firebase token may do everything its user may, an API key its scopes. */
  scopes: readonly ApiKeyScope[];
  /** The organisation (the token's RATE_LIMIT_ORG_CLAIM claim), when there is one: it has its own rate limit. */
  orgId: string | null;
  apiKeyId?: number;
}

let keySet: { url: string; get: JWTVerifyGetKey } | undefined;

function jwks(url: string): JWTVerifyGetKey {
  // jose caches the keys and refetches on an unknown kid (with a cooldown), as key rotation needs.
  if (!keySet || keySet.url !== url) keySet = { url, get: createRemoteJWKSet(new URL(url), { timeoutDuration: 5_000 }) };
  return keySet.get;
}

/** Firebase ID tokens live an hour; one that claims longer was not minted by Firebase. */
const MAX_TOKEN_LIFETIME_S = 3_600;
const CLOCK_TOLERANCE_S = 5;

/** The credential of `Authorization: Bearer <credential>`; the scheme is case-insensitive (RFC 9110). */
export function bearerCredential(request: Request): string | null {
  const header = request.headers.get('authorization');
  const match = header ? /^bearer +([\x21-\x7e]+) *$/i.exec(header.trim()) : null;
  return match ? match[1]! : null;
}

/**
 * Verifies the caller: an API key (`sk_…`, looked up by its hash) or a Firebase ID token. A token is
 * checked against Google's securetoken JWKS (RS256): `exp`, `iat` and `auth_time` not in the future,
 * a lifetime of at most an hour as Firebase mints them, `aud` exactly the project, `iss`
 * securetoken.google.com/<project>, and a `sub`. Throws 401 (WWW-Authenticate: Bearer) for anything
 * missing, malformed, expired, revoked or foreign.
 */
export async function authenticate(request: Request): Promise<Caller> {
  const credential = bearerCredential(request);
  if (!credential) throw unauthenticated('a Firebase ID token or an API key is required as a Bearer token');
  if (credential.startsWith(API_KEY_PREFIX)) {
    const key = await findApiKey(db(), credential);
    if (!key) throw unauthenticated('the API key is not valid (unknown, revoked or expired)');
    return { userId: key.userId, via: 'api_key', scopes: key.scopes, orgId: key.orgId, apiKeyId: key.id };
  }
  const payload = await verifyFirebaseToken(credential);
  return { userId: payload.sub!, via: 'firebase', scopes: ['read', 'write'], orgId: orgClaim(payload) };
}

const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

async function verifyFirebaseToken(token: string): Promise<JWTPayload> {
  const settings = config();
  if (!JWT.test(token)) throw unauthenticated('the bearer token is neither an API key nor a Firebase ID token');
  if (!settings.FIREBASE_PROJECT_ID) throw unauthenticated('authentication is not configured (FIREBASE_PROJECT_ID)');
  const project = settings.FIREBASE_PROJECT_ID;
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, jwks(settings.FIREBASE_JWKS_URL), {
      issuer: `https://securetoken.google.com/${project}`,
      audience: project,
      algorithms: ['RS256'],
      requiredClaims: ['exp', 'iat', 'sub'],
      clockTolerance: CLOCK_TOLERANCE_S,
    }));
  } catch (error) {
    if (error instanceof joseErrors.JWKSTimeout || (error instanceof TypeError && /fetch/i.test(error.message))) {
      throw dependencyUnavailable('the identity provider keys could not be fetched');
    }
    if (error instanceof joseErrors.JWTExpired) throw unauthenticated('the token has expired');
    if (error instanceof joseErrors.JOSEError) throw unauthenticated('the token is not valid for this service');
    throw error;
  }
  const now = Date.now() / 1000;
  // jose accepts an audience list that contains the project; Firebase issues exactly the project.
  if (payload.aud !== project) throw unauthenticated('the token is not valid for this service');
  if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 128 || textProblem(payload.sub)) {
    throw unauthenticated('the token has no valid subject');
  }
  if (payload.iat! > now + CLOCK_TOLERANCE_S) throw unauthenticated('the token was issued in the future');
  if (payload.exp! - payload.iat! > MAX_TOKEN_LIFETIME_S) throw unauthenticated('the token claims a lifetime longer than an hour');
  const authTime = payload.auth_time;
  if (authTime !== undefined && (typeof authTime !== 'number' || authTime > now + CLOCK_TOLERANCE_S)) {
    throw unauthenticated('the token has an invalid auth_time');
  }
  return payload;
}

/** The organisation claim named by RATE_LIMIT_ORG_CLAIM, when the token carries a usable one. */
export function orgClaim(payload: JWTPayload): string | null {
  const claim = config().RATE_LIMIT_ORG_CLAIM;
  const value = claim ? payload[claim] : undefined;
  return typeof value === 'string' && value.length > 0 && value.length <= 200 && !textProblem(value) ? value : null;
}
