/**
 * A small JWKS server on loopback that serves keys this test generated (and counts its
 * requests), and a signer for tokens of any shape: what the real server never mints
 * (expired, not yet valid, foreign headers, other audiences) made with a trusted key.
 */

import { createHmac, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { createServer, type Server } from "node:http";

export interface TestKey {
  kid: string;
  privateKey: KeyObject;
  /** The public JWK as a JWKS lists it. */
  jwk: Record<string, unknown>;
}

export function generateKey(kid: string): TestKey {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const exported = publicKey.export({ format: "jwk" });
  return { kid, privateKey, jwk: { ...exported, kid, alg: "EdDSA", use: "sig" } };
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");

/** A compact JWS signed with `key` (EdDSA); `header` is merged over `{alg, typ, kid}`. */
export function signToken(key: TestKey, claims: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  const input = `${b64({ alg: "EdDSA", typ: "JWT", kid: key.kid, ...header })}.${b64(claims)}`;
  return `${input}.${sign(null, Buffer.from(input), key.privateKey).toString("base64url")}`;
}

/** An HS256 token under `secret` (e.g. the raw bytes of a public key: the classic confusion attack). */
export function signHs256(
  secret: Buffer,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
): string {
  const input = `${b64({ alg: "HS256", typ: "JWT", ...header })}.${b64(claims)}`;
  return `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
}

/** Replaces part `index` (0 header, 1 payload) of a token, keeping the other parts as they are. */
export function withPart(token: string, index: 0 | 1, value: unknown): string {
  const parts = token.split(".");
  parts[index] = b64(value);
  return parts.join(".");
}

export function part(token: string, index: 0 | 1): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[index] ?? "", "base64url").toString("utf8")) as Record<
    string,
    unknown
  >;
}

/** Serves `/v7/{projectId}/.well-known/jwks.json` with the keys in `keys` (mutable). */
export class JwksServer {
  readonly keys: TestKey[] = [];
  requests = 0;
  /** When set, every request answers this status. */
  failWith: number | undefined;
  #server: Server;
  baseUrl = "";

  private constructor(readonly projectId: string) {
    this.#server = createServer((request, response) => {
      if (request.url !== `/v7/${projectId}/.well-known/jwks.json`) {
        response.writeHead(404).end();
        return;
      }
      this.requests += 1;
      if (this.failWith !== undefined) {
        response.writeHead(this.failWith).end();
        return;
      }
      response.writeHead(200, { "Content-Type": "application/json" });
      response.end(JSON.stringify({ keys: this.keys.map((k) => k.jwk) }));
    });
  }

  static async start(projectId: string): Promise<JwksServer> {
    const server = new JwksServer(projectId);
    await new Promise<void>((resolve) => server.#server.listen(0, "127.0.0.1", resolve));
    const address = server.#server.address();
    server.baseUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    return server;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
