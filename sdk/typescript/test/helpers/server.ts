/**
 * Starts the REAL `latchkey` binary on a fresh data directory (fresh SQLite file) and a free
 * port, and reads the bootstrap project id and API key it prints on first start.
 *
 * The binary is `$LATCHKEY_BIN`, else `$CARGO_TARGET_DIR/debug/latchkey`, else
 * `<repo>/target/debug/latchkey` (build it with `cargo build -p latchkey-server --bin latchkey`).
 */

import { spawn, execFile, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/** `sdk/typescript` (this file runs from `sdk/typescript/build/test/helpers`). */
export const PACKAGE_ROOT = path.resolve(__dirname, "..", "..", "..");
export const REPO_ROOT = path.resolve(PACKAGE_ROOT, "..", "..");

export function latchkeyBinary(): string {
  const candidates = [
    process.env.LATCHKEY_BIN,
    process.env.CARGO_TARGET_DIR ? path.join(process.env.CARGO_TARGET_DIR, "debug", "latchkey") : undefined,
    path.join(REPO_ROOT, "target", "debug", "latchkey"),
  ].filter((c): c is string => typeof c === "string" && c.length > 0);
  for (const candidate of candidates) {
    if (existsSync(candidate)) return path.resolve(candidate);
  }
  throw new Error(
    `latchkey binary not found (looked at ${candidates.join(", ")}); ` +
      "build it with `cargo build -p latchkey-server --bin latchkey` or set LATCHKEY_BIN",
  );
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface ServerOptions {
  /** Extra environment for `latchkey serve` (e.g. SMTP settings). */
  env?: Record<string, string>;
  /** Extra `serve` arguments. */
  args?: string[];
}

export class LatchkeyServer {
  readonly baseUrl: string;
  readonly projectId: string;
  readonly apiKey: string;
  readonly dataDir: string;
  readonly #child: ChildProcess;
  readonly #output: { stdout: string; stderr: string };
  readonly #env: Record<string, string>;

  private constructor(
    init: { baseUrl: string; projectId: string; apiKey: string; dataDir: string; env: Record<string, string> },
    child: ChildProcess,
    output: { stdout: string; stderr: string },
  ) {
    this.baseUrl = init.baseUrl;
    this.projectId = init.projectId;
    this.apiKey = init.apiKey;
    this.dataDir = init.dataDir;
    this.#env = init.env;
    this.#child = child;
    this.#output = output;
  }

  static async start(options: ServerOptions = {}): Promise<LatchkeyServer> {
    const binary = latchkeyBinary();
    const dataDir = mkdtempSync(path.join(tmpdir(), "latchkey-sdk-test-"));
    const port = await freePort();
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "",
      LATCHKEY_DATA_DIR: dataDir,
      LATCHKEY_BIND: `127.0.0.1:${port}`,
      LATCHKEY_LOG: "warn",
      ...options.env,
    };
    const child = spawn(binary, ["serve", ...(options.args ?? [])], { env, stdio: ["ignore", "pipe", "pipe"] });
    const output = { stdout: "", stderr: "" };
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (output.stdout += chunk));
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (output.stderr += chunk));
    const baseUrl = `http://127.0.0.1:${port}`;

    const deadline = Date.now() + 30_000;
    let projectId: string | undefined;
    let apiKey: string | undefined;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) {
        throw new Error(`latchkey exited with ${child.exitCode} during start-up:\n${output.stderr}`);
      }
      projectId ??= /project id:\s+(\S+)/.exec(output.stdout)?.[1];
      apiKey ??= /api key:\s+(\S+)/.exec(output.stdout)?.[1];
      if (projectId !== undefined && apiKey !== undefined && (await ready(baseUrl))) {
        return new LatchkeyServer({ baseUrl, projectId, apiKey, dataDir, env }, child, output);
      }
      await sleep(50);
    }
    child.kill("SIGKILL");
    throw new Error(`latchkey did not start within 30 s.\nstdout:\n${output.stdout}\nstderr:\n${output.stderr}`);
  }

  /** Runs an admin subcommand (`latchkey project set …`) on this server's database; returns stdout. */
  async admin(...args: string[]): Promise<string> {
    const { stdout } = await execFileAsync(latchkeyBinary(), args, { env: this.#env });
    return stdout;
  }

  get logs(): string {
    return this.#output.stderr;
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode === null) {
      const exited = new Promise<void>((resolve) => this.#child.once("exit", () => resolve()));
      this.#child.kill("SIGTERM");
      // Graceful shutdown waits for idle keep-alive connections (undici keeps them ~4 s); do not wait that long.
      await Promise.race([exited, sleep(1_000)]);
      if (this.#child.exitCode === null) this.#child.kill("SIGKILL");
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

async function ready(baseUrl: string): Promise<boolean> {
  try {
    const response = await fetch(`${baseUrl}/readyz`);
    return response.ok;
  } catch {
    return false;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
