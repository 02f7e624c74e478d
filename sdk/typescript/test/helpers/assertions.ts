/** Shape assertions for the documented return values. */

import assert from "node:assert/strict";

import type { AuthUser, Credentials } from "../../src/index";

export const AUTH_USER_FIELDS = [
  "id",
  "projectId",
  "foreignId",
  "role",
  "email",
  "name",
  "username",
  "avatar",
  "bio",
  "birthdate",
  "location",
  "metadata",
  "reputation",
  "isVerified",
  "isActive",
  "lastActive",
  "createdAt",
  "updatedAt",
  "suspensions",
  "authMethods",
] as const;

/** Exactly the AuthUser fields of API.md "Objects", with their types. */
export function assertAuthUser(user: AuthUser, projectId: string): void {
  assert.deepEqual(Object.keys(user).sort(), [...AUTH_USER_FIELDS].sort(), "AuthUser has exactly the API.md fields");
  assert.match(user.id, /^[0-9a-f-]{36}$/);
  assert.equal(user.projectId, projectId);
  assert.ok(["visitor", "moderator", "admin"].includes(user.role));
  for (const field of ["foreignId", "email", "name", "username", "avatar", "bio", "birthdate", "lastActive"] as const) {
    assert.ok(user[field] === null || typeof user[field] === "string", `${field} is string|null`);
  }
  assert.ok(user.location === null || user.location.type === "Point");
  assert.equal(typeof user.metadata, "object");
  assert.ok(Number.isInteger(user.reputation));
  assert.equal(typeof user.isVerified, "boolean");
  assert.equal(typeof user.isActive, "boolean");
  assert.ok(!Number.isNaN(Date.parse(user.createdAt)));
  assert.ok(!Number.isNaN(Date.parse(user.updatedAt)));
  assert.ok(Array.isArray(user.suspensions));
  assert.ok(user.authMethods.length > 0 && user.authMethods.every((m) => m === "password" || m === "external"));
  assert.ok(!("secureMetadata" in user), "secureMetadata is never returned");
}

/** `{ user, accessToken, refreshToken }` and nothing else. */
export function assertCredentials(result: Credentials, projectId: string): void {
  assert.deepEqual(Object.keys(result).sort(), ["accessToken", "refreshToken", "user"]);
  assertJwt(result.accessToken);
  assertJwt(result.refreshToken);
  assertAuthUser(result.user, projectId);
}

export function assertJwt(token: unknown): asserts token is string {
  assert.equal(typeof token, "string");
  assert.equal((token as string).split(".").length, 3, "a JWT has three parts");
}

/** The unverified claims of a JWT (tests only; verify against the JWKS in production). */
export function claims(token: string): Record<string, unknown> {
  const payload = token.split(".")[1] ?? "";
  return JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
}
