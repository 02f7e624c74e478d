/**
 * The SDK installed as a newcomer installs it, from a fresh clone (the files git tracks:
 * dist/ is among them, node_modules/ and build/ are not), then its example run against the
 * REAL binary:
 *
 * - `npm pack` in the SDK folder, and the tarball installed into a new folder;
 * - `npm install ./sdk/typescript` from the clone's root (npm links the folder: nothing is
 *   built there, so dist/ must be in the clone);
 * - `npm install --install-links ./sdk/typescript` (npm packs the folder and copies it).
 */

import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";

import { LatchkeyServer, PACKAGE_ROOT } from "./helpers/server";

const execFileAsync = promisify(execFile);
const NPM_TIMEOUT_MS = 5 * 60_000;

let server: LatchkeyServer;
let work: string;

before(async () => {
  server = await LatchkeyServer.start();
  work = mkdtempSync(path.join(tmpdir(), "latchkey-sdk-install-"));
});

after(async () => {
  await server?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** The SDK's files as a clone holds them: git's list (tracked, or new and not ignored). */
function cloneFiles(): string[] {
  try {
    const listed = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
      cwd: PACKAGE_ROOT,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    return listed.split("\0").filter((f) => f !== "" && existsSync(path.join(PACKAGE_ROOT, f)));
  } catch {
    // Not a git checkout (an unpacked source archive): everything but what builds produce here.
    const skip = new Set(["node_modules", "build", "dist-check"]);
    const walk = (dir: string): string[] =>
      readdirSync(path.join(PACKAGE_ROOT, dir), { withFileTypes: true })
        .filter((e) => !skip.has(e.name) && !e.name.endsWith(".tgz"))
        .flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
    return walk("");
  }
}

/** Copies the SDK as `<dir>/sdk/typescript` (the clone's layout); returns `<dir>`. */
function freshClone(name: string): string {
  const clone = path.join(work, name);
  const target = path.join(clone, "sdk", "typescript");
  const listed = cloneFiles();
  assert.ok(listed.includes("dist/index.js"), "dist/ is part of the clone (committed, not ignored)");
  for (const file of listed) {
    mkdirSync(path.dirname(path.join(target, file)), { recursive: true });
    copyFileSync(path.join(PACKAGE_ROOT, file), path.join(target, file));
  }
  assert.ok(!existsSync(path.join(target, "node_modules")) && !existsSync(path.join(target, "build")));
  return clone;
}

/** A new, empty project folder (`npm init -y`). */
async function newProject(name: string): Promise<string> {
  const dir = path.join(work, name);
  mkdirSync(dir, { recursive: true });
  await npm(dir, ["init", "-y"]);
  return dir;
}

/**
 * The environment of a shell the newcomer types in: this test runs under `npm test`, whose
 * settings for its own run (lifecycle, package, prefix) must not reach the npm it starts.
 */
function shellEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^npm_(lifecycle|package)_/i.test(name)) continue;
    if (
      /^npm_config_(global|location|prefix|local_prefix|omit|include|only|production|dry_run|ignore_scripts|install_links|save.*|workspaces?)$/i.test(
        name,
      )
    ) {
      continue;
    }
    env[name] = value;
  }
  return env;
}

async function npm(cwd: string, args: string[]): Promise<string> {
  const cli = process.env.npm_execpath;
  const [command, prefix] = cli && /\.[cm]?js$/.test(cli) ? [process.execPath, [cli]] : ["npm", []];
  try {
    const { stdout } = await execFileAsync(command, [...prefix, ...args, "--no-audit", "--no-fund"], {
      cwd,
      env: shellEnv(),
      timeout: NPM_TIMEOUT_MS,
      maxBuffer: 64 * 1024 * 1024,
      shell: command === "npm" && process.platform === "win32",
    });
    return stdout;
  } catch (e) {
    const { stdout, stderr } = e as { stdout?: string; stderr?: string };
    throw new Error(`npm ${args.join(" ")} failed in ${cwd}:\n${stdout ?? ""}\n${stderr ?? ""}`, { cause: e });
  }
}

/** Runs `node <script>` in `cwd` against the test server; returns stdout. */
async function runExample(cwd: string, script: string, user: { email: string; username: string }): Promise<string> {
  try {
    const { stdout } = await execFileAsync(process.execPath, [script], {
      cwd,
      timeout: 60_000,
      env: {
        PATH: process.env.PATH ?? "",
        LATCHKEY_URL: server.baseUrl,
        LATCHKEY_PROJECT_ID: server.projectId,
        LATCHKEY_API_KEY: server.apiKey,
        LATCHKEY_EMAIL: user.email,
        LATCHKEY_USERNAME: user.username,
      },
    });
    return stdout;
  } catch (e) {
    const { stdout, stderr } = e as { stdout?: string; stderr?: string };
    throw new Error(`node ${script} failed in ${cwd}:\n${stdout ?? ""}\n${stderr ?? ""}`, { cause: e });
  }
}

/** The example's output: every call ran, the token verified locally, errors were typed. */
function assertExampleRan(stdout: string, username: string): void {
  assert.match(stdout, new RegExp(`^${username} available: true$`, "m"), stdout);
  assert.match(stdout, /^signed up [0-9a-f-]{36} /m, stdout);
  assert.match(stdout, /^signed in [0-9a-f-]{36} /m, stdout);
  assert.match(stdout, /^access token verified: user [0-9a-f-]{36} role visitor$/m, stdout);
  assert.match(stdout, /^refresh token refused as an access token: token\/unsupported-algorithm$/m, stdout);
  assert.match(stdout, /^signed out$/m, stdout);
  assert.match(stdout, /^verification email sent$/m, stdout);
  assert.match(stdout, /^sign-in refused: 401 auth\/invalid-credentials /m, stdout);
}

function installed(project: string): string {
  return path.join(project, "node_modules", "@latchkey", "node");
}

describe("installing the SDK from a fresh clone", () => {
  it(
    "npm pack, then the tarball installed into a new folder, runs the example",
    { timeout: NPM_TIMEOUT_MS * 2 },
    async () => {
      const clone = freshClone("clone-pack");
      const sdk = path.join(clone, "sdk", "typescript");
      const tarballs = path.join(work, "tarballs");
      mkdirSync(tarballs);
      await npm(sdk, ["pack", "--pack-destination", tarballs]);
      const packed = readdirSync(tarballs).filter((f) => f.endsWith(".tgz"));
      assert.deepEqual(packed, ["latchkey-node-0.1.0.tgz"]);

      const app = await newProject("app-tarball");
      await npm(app, ["install", path.join(tarballs, "latchkey-node-0.1.0.tgz")]);
      const pkg = installed(app);
      for (const file of [
        "package.json",
        "README.md",
        "dist/index.js",
        "dist/index.d.ts",
        "dist/verify.js",
        "examples/seed.mjs",
      ]) {
        assert.ok(existsSync(path.join(pkg, file)), `the tarball holds ${file}`);
      }
      for (const file of ["test", "node_modules", "build", "tsconfig.json", "package-lock.json"]) {
        assert.ok(!existsSync(path.join(pkg, file)), `the tarball leaves out ${file}`);
      }
      const manifest = JSON.parse(readFileSync(path.join(pkg, "package.json"), "utf8")) as { scripts?: object };
      assert.deepEqual(
        Object.keys(manifest.scripts ?? {}).filter((s) => /install|prepare/.test(s)),
        [],
      );

      // The example, copied into the new project as a newcomer would start from it.
      cpSync(path.join(pkg, "examples", "seed.mjs"), path.join(app, "seed.mjs"));
      assertExampleRan(await runExample(app, "seed.mjs", { email: "pack@example.com", username: "pack" }), "pack");

      // CommonJS callers get the same exports.
      const { stdout } = await execFileAsync(
        process.execPath,
        [
          "-e",
          'const sdk = require("@latchkey/node"); console.log([typeof sdk.init, typeof sdk.createAccessTokenVerifier, typeof sdk.LatchkeyTokenError].join(" "))',
        ],
        { cwd: app },
      );
      assert.equal(stdout.trim(), "function function function");

      // TypeScript callers get the declarations through `exports`.
      writeFileSync(
        path.join(app, "check.ts"),
        [
          'import { createAccessTokenVerifier, init, type AccessTokenClaims, type Latchkey } from "@latchkey/node";',
          "export async function check(token: string): Promise<string> {",
          '  const latchkey: Latchkey = await init({ baseUrl: "http://127.0.0.1:8787", projectId: "p", apiKey: "k" });',
          "  const claims: AccessTokenClaims = await latchkey.verifyAccessToken(token);",
          '  const verifier = createAccessTokenVerifier({ baseUrl: "http://127.0.0.1:8787", projectId: "p", clockSkewSec: 30 });',
          "  return claims.sub + (await verifier.verify(token)).role;",
          "}",
          "",
        ].join("\n"),
      );
      await execFileAsync(
        process.execPath,
        [
          path.join(PACKAGE_ROOT, "node_modules", "typescript", "bin", "tsc"),
          "--noEmit",
          "--strict",
          "--module",
          "node16",
          "--moduleResolution",
          "node16",
          "--target",
          "ES2022",
          "--typeRoots",
          path.join(PACKAGE_ROOT, "node_modules", "@types"),
          "--types",
          "node",
          "check.ts",
        ],
        { cwd: app },
      ).catch((e: { stdout?: string }) => assert.fail(`a TypeScript caller does not type-check:\n${e.stdout ?? ""}`));
    },
  );

  it(
    "npm install ./sdk/typescript from the clone's root runs the example",
    { timeout: NPM_TIMEOUT_MS * 2 },
    async () => {
      const clone = freshClone("clone-folder");
      await npm(clone, ["install", "./sdk/typescript"]);
      assert.ok(existsSync(path.join(clone, "node_modules", "@latchkey", "node", "dist", "index.js")));
      const stdout = await runExample(clone, "node_modules/@latchkey/node/examples/seed.mjs", {
        email: "folder@example.com",
        username: "folder",
      });
      assertExampleRan(stdout, "folder");
    },
  );

  it(
    "npm install --install-links <clone>/sdk/typescript into a new folder runs the example",
    { timeout: NPM_TIMEOUT_MS * 2 },
    async () => {
      const clone = freshClone("clone-links");
      const app = await newProject("app-links");
      await npm(app, ["install", "--install-links", path.join(clone, "sdk", "typescript")]);
      assert.ok(existsSync(path.join(installed(app), "dist", "index.js")));
      const stdout = await runExample(app, "node_modules/@latchkey/node/examples/seed.mjs", {
        email: "links@example.com",
        username: "links",
      });
      assertExampleRan(stdout, "links");
    },
  );
});
