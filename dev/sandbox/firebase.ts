// Firebase Auth ID tokens: an RSA key pair made at start, its JWKS at Google's path, and
// RS256 tokens with the claims Firebase puts in an ID token.
import { Hono } from 'hono';
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import { randomBytes } from 'node:crypto';

/** Google's path for the securetoken JWKS (under https://www.googleapis.com). */
export const FIREBASE_JWKS_PATH = '/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com';

export interface MintOptions {
  audience?: string;
  issuer?: string;
  /** Lifetime from `issuedAt`; negative gives an already expired token. Default 3600. */
  expiresInSeconds?: number;
  /** Unix seconds; default now. */
  issuedAt?: number;
  /** Sign with a key the JWKS does not list. */
  unknownKey?: boolean;
  email?: string;
  signInProvider?: string;
  /** Extra claims, merged last. */
  claims?: Record<string, unknown>;
}

type SigningKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

export class FirebaseIssuer {
  private constructor(
    readonly projectId: string,
    private readonly kid: string,
    private readonly privateKey: SigningKey,
    private readonly publicJwk: JWK,
    private readonly foreignKid: string,
    private readonly foreignKey: SigningKey,
    private readonly clock: () => number,
  ) {}

  static async create(projectId: string, clock: () => number = Date.now): Promise<FirebaseIssuer> {
    const [own, foreign] = await Promise.all([
      generateKeyPair('RS256', { modulusLength: 2048, extractable: true }),
      generateKeyPair('RS256', { modulusLength: 2048 }),
    ]);
    const kid = randomBytes(20).toString('hex');
    const jwk = await exportJWK(own.publicKey);
    return new FirebaseIssuer(
      projectId,
      kid,
      own.privateKey,
      { ...jwk, kid, alg: 'RS256', use: 'sig' },
      randomBytes(20).toString('hex'),
      foreign.privateKey,
      clock,
    );
  }

  get issuer(): string {
    return `https://securetoken.google.com/${this.projectId}`;
  }

  jwks(): { keys: JWK[] } {
    return { keys: [this.publicJwk] };
  }

  async mint(sub: string, opts: MintOptions = {}): Promise<string> {
    const iat = opts.issuedAt ?? Math.floor(this.clock() / 1000);
    const exp = iat + (opts.expiresInSeconds ?? 3600);
    const email = opts.email;
    const claims: Record<string, unknown> = {
      auth_time: iat,
      user_id: sub,
      ...(email ? { email, email_verified: true } : {}),
      firebase: {
        identities: email ? { email: [email] } : {},
        sign_in_provider: opts.signInProvider ?? (email ? 'password' : 'custom'),
      },
      ...opts.claims,
    };
    const unknown = opts.unknownKey === true;
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: unknown ? this.foreignKid : this.kid, typ: 'JWT' })
      .setIssuer(opts.issuer ?? this.issuer)
      .setAudience(opts.audience ?? this.projectId)
      .setSubject(sub)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(unknown ? this.foreignKey : this.privateKey);
  }
}

export function firebaseRoutes(issuer: FirebaseIssuer): Hono {
  const app = new Hono();
  app.get(FIREBASE_JWKS_PATH, (c) => {
    c.header('Cache-Control', 'public, max-age=21600, must-revalidate, no-transform');
    return c.json(issuer.jwks());
  });
  return app;
}
