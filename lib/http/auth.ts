import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { config } from '../config';
import { dependencyUnavailable, unauthenticated } from './errors';

export interface Caller {
  /** The Firebase uid (`sub`): every query a handler runs is scoped by it. */
  userId: string;
}

let keySet: { url: string; get: JWTVerifyGetKey } | undefined;

function jwks(url: string): JWTVerifyGetKey {
  // jose caches the keys and refetches on an unknown kid (with a cooldown), as key rotation needs.
  if (!keySet || keySet.url !== url) keySet = { url, get: createRemoteJWKSet(new URL(url), { timeoutDuration: 5_000 }) };
  return keySet.get;
}

/**
 * Verifies the caller's Firebase ID token (Authorization: Bearer): signature against Google's
 * securetoken JWKS, `exp`, `iat`, `aud` (the project), `iss` (securetoken.google.com/<project>), `sub`.
 * Throws 401 (WWW-Authenticate: Bearer) for anything missing, malformed, expired or foreign.
 */
export async function authenticate(request: Request): Promise<Caller> {
  const settings = config();
  const header = request.headers.get('authorization');
  const match = header ? /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/.exec(header.trim()) : null;
  if (!match) throw unauthenticated('a Firebase ID token is required as a Bearer token');
  if (!settings.FIREBASE_PROJECT_ID) throw unauthenticated('authentication is not configured (FIREBASE_PROJECT_ID)');
  const project = settings.FIREBASE_PROJECT_ID;
  try {
    const { payload } = await jwtVerify(match[1]!, jwks(settings.FIREBASE_JWKS_URL), {
      issuer: `https://securetoken.google.com/${project}`,
      audience: project,
      algorithms: ['RS256'],
      requiredClaims: ['exp', 'iat', 'sub'],
      clockTolerance: 5,
    });
    if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 128) {
      throw unauthenticated('the token has no valid subject');
    }
    if (typeof payload.iat === 'number' && payload.iat > Date.now() / 1000 + 5) {
      throw unauthenticated('the token was issued in the future');
    }
    return { userId: payload.sub };
  } catch (error) {
    if (error instanceof joseErrors.JWKSTimeout || (error instanceof TypeError && /fetch/i.test(error.message))) {
      throw dependencyUnavailable('the identity provider keys could not be fetched');
    }
    if (error instanceof joseErrors.JWTExpired) throw unauthenticated('the token has expired');
    if (error instanceof joseErrors.JOSEError) throw unauthenticated('the token is not valid for this service');
    throw error;
  }
}
