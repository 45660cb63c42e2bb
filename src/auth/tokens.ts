import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, exportPKCS8, generateKeyPair, importJWK, importPKCS8, jwtVerify, SignJWT, type CryptoKey, type JWK } from 'jose';
import type { AuthConfig } from '../config/schema.js';
import type { Access } from './access.js';

const algorithm = 'ES256';

export interface VerifiedToken {
  subject: string;
  access: Access[];
}

/** Loads the signing key from the config, or from `<data>/auth/signing-key.pem`, creating that once. */
async function loadKey(auth: AuthConfig, dataDir: string): Promise<CryptoKey> {
  const file = auth.signingKey ?? join(dataDir, 'auth', 'signing-key.pem');
  if (!existsSync(file)) {
    if (auth.signingKey) throw new Error(`auth.signingKey: ${file} does not exist`);
    const { privateKey } = await generateKeyPair(algorithm, { extractable: true });
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(`${file}.tmp`, await exportPKCS8(privateKey), { mode: 0o600, flush: true });
    renameSync(`${file}.tmp`, file);
  }
  return importPKCS8(readFileSync(file, 'utf8'), algorithm, { extractable: true });
}

/** Issues and verifies JWTs (access and refresh tokens) with one ES256 key; `kid` is its thumbprint. */
export async function createTokenSigner(auth: AuthConfig, dataDir: string) {
  const privateKey = await loadKey(auth, dataDir);
  const { d: _private, ...publicJwk } = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(publicJwk as JWK);
  const jwk: JWK = { ...publicJwk, kid, alg: algorithm, use: 'sig' };
  const publicKey = await importJWK(publicJwk as JWK, algorithm);

  async function sign(subject: string, seconds: number, claims: Record<string, unknown>): Promise<string> {
    return new SignJWT(claims)
      .setProtectedHeader({ alg: algorithm, kid, typ: 'JWT' })
      .setIssuer(auth.issuer)
      .setAudience(auth.service)
      .setSubject(subject)
      .setIssuedAt()
      .setNotBefore('0s')
      .setExpirationTime(`${seconds}s`)
      .setJti(randomUUID())
      .sign(privateKey);
  }

  async function verify(token: string, use: 'access' | 'refresh'): Promise<VerifiedToken> {
    const { payload, protectedHeader } = await jwtVerify(token, publicKey, {
      issuer: auth.issuer,
      audience: auth.service,
      algorithms: [algorithm],
      requiredClaims: ['sub', 'exp', 'nbf', 'iat'],
    });
    if (protectedHeader.kid !== kid) throw new Error('unknown key');
    if ((payload.use === 'refresh') !== (use === 'refresh')) throw new Error(`not an ${use} token`);
    const access = use === 'access' ? payload.access : [];
    if (!Array.isArray(access)) throw new Error('no access claim');
    return { subject: payload.sub as string, access: access as Access[] };
  }

  return {
    jwks: { keys: [jwk] },
    issueAccess: (subject: string, access: Access[]) => sign(subject, auth.tokenSeconds, { access }),
    issueRefresh: (subject: string) => sign(subject, auth.refreshSeconds, { use: 'refresh' }),
    verify,
  };
}

export type TokenSigner = Awaited<ReturnType<typeof createTokenSigner>>;
