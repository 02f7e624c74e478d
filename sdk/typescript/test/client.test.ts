/**
 * Transport behaviour that needs a misbehaving peer rather than Latchkey: a TCP listener
 * that accepts and never answers (timeouts, aborts in flight) and a closed port.
 */

import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";

import { init, LatchkeyError } from "../src/index";
import { freePort } from "./helpers/server";

let blackHole: Server;
let blackHoleUrl: string;
const sockets = new Set<Socket>();

before(async () => {
  blackHole = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => blackHole.listen(0, "127.0.0.1", resolve));
  const address = blackHole.address();
  blackHoleUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
});

after(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => blackHole.close(() => resolve()));
});

const options = { projectId: "00000000-0000-4000-8000-000000000000", apiKey: "lk_test" };

describe("transport", () => {
  it("init times out with client/timeout", async () => {
    const started = Date.now();
    await assert.rejects(init({ baseUrl: blackHoleUrl, ...options, timeoutMs: 200 }), (e: unknown) => {
      assert.ok(e instanceof LatchkeyError);
      assert.equal(e.code, "client/timeout");
      assert.equal(e.status, 0);
      assert.match(e.message, /Latchkey init failed: .*timed out after 200 ms/);
      return true;
    });
    assert.ok(Date.now() - started < 5000);
  });

  it("an abort signal cancels a call in flight with client/aborted", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await assert.rejects(
      init({ baseUrl: blackHoleUrl, ...options, timeoutMs: 0, signal: controller.signal }),
      (e: unknown) => e instanceof LatchkeyError && e.code === "client/aborted",
    );
  });

  it("a per-call timeoutMs overrides the client's default", async () => {
    // Let init's key check succeed, then send the call itself to the silent peer.
    const fetchImpl: typeof fetch = async (input, init) => {
      const url = String(input);
      if (url.endsWith("/internal/service/verify")) {
        return new Response(JSON.stringify({ success: true, projectId: options.projectId }), { status: 200 });
      }
      return fetch(url, init);
    };
    const client = await init({ baseUrl: blackHoleUrl, ...options, timeoutMs: 60_000, fetch: fetchImpl });
    const started = Date.now();
    await assert.rejects(
      client.auth.signIn({ email: "user@example.com", password: "s3cur3P@ss" }, { timeoutMs: 150 }),
      (e: unknown) => e instanceof LatchkeyError && e.code === "client/timeout",
    );
    assert.ok(Date.now() - started < 5000);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await assert.rejects(
      client.users.checkUsernameAvailability({ username: "alice" }, { signal: controller.signal }),
      (e: unknown) => e instanceof LatchkeyError && e.code === "client/aborted",
    );
  });

  it("an unreachable server is client/network-error", async () => {
    const port = await freePort();
    await assert.rejects(
      init({ baseUrl: `http://127.0.0.1:${port}`, ...options }),
      (e: unknown) => e instanceof LatchkeyError && e.code === "client/network-error" && e.status === 0,
    );
  });

  it("bad options are refused before any request", async () => {
    await assert.rejects(
      init({ baseUrl: "localhost:8787", ...options }),
      (e: unknown) => e instanceof LatchkeyError && e.code === "client/invalid-argument",
    );
    await assert.rejects(
      init({ baseUrl: blackHoleUrl, projectId: "", apiKey: "lk_x" }),
      (e: unknown) => e instanceof LatchkeyError && e.code === "client/invalid-argument",
    );
  });
});
