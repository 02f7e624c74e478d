/**
 * dist/ is committed (a path install links this folder, and npm 12 runs no build script of a
 * dependency), so it must be exactly what src/ compiles to: a change to src/ without
 * `npm run build` fails here. Also: the package runs no install-time script at all.
 */

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";

import { PACKAGE_ROOT } from "./helpers/server";

const execFileAsync = promisify(execFile);

function files(dir: string, prefix = ""): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) =>
      entry.isDirectory() ? files(path.join(dir, entry.name), `${prefix}${entry.name}/`) : [`${prefix}${entry.name}`],
    )
    .sort();
}

describe("the committed build", () => {
  it("dist/ is what src/ compiles to", async () => {
    // A sibling of dist/, so the source maps' relative paths come out the same.
    const fresh = path.join(PACKAGE_ROOT, "dist-check");
    rmSync(fresh, { recursive: true, force: true });
    try {
      const tsc = path.join(PACKAGE_ROOT, "node_modules", "typescript", "bin", "tsc");
      await execFileAsync(process.execPath, [tsc, "-p", "tsconfig.json", "--outDir", fresh], { cwd: PACKAGE_ROOT });
      const dist = path.join(PACKAGE_ROOT, "dist");
      const hint = "dist/ is stale: run `npm run build` in sdk/typescript and commit dist/";
      assert.deepEqual(files(dist), files(fresh), hint);
      for (const file of files(fresh)) {
        assert.equal(
          readFileSync(path.join(dist, file), "utf8"),
          readFileSync(path.join(fresh, file), "utf8"),
          `${hint} (${file} differs)`,
        );
      }
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  it("no script runs when the package is installed", () => {
    const manifest = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, "package.json"), "utf8")) as {
      scripts?: Record<string, string>;
      dependencies?: Record<string, string>;
    };
    // npm 12 blocks these in dependencies (and fails under --strict-allow-scripts), and
    // `prepare` would need the devDependencies a path install does not install.
    for (const hook of ["preinstall", "install", "postinstall", "prepare", "preprepare", "postprepare", "prepublish"]) {
      assert.equal(manifest.scripts?.[hook], undefined, `package.json has no ${hook} script`);
    }
    assert.deepEqual(manifest.dependencies ?? {}, {}, "no runtime dependencies");
  });
});
