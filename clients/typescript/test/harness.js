// Starts the real `ikigai serve` (SQLite, a temp data folder, a free port) for the client tests
// and stops exactly that process. The binary comes from IKIGAI_BINARY (ctest sets it), else the
// release build of this checkout.
import { spawn, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
export const binary = process.env.IKIGAI_BINARY ?? resolve(here, "../../../build/release/ikigai");

const running = new Set();
// A test runner that dies between start and stop must not leave a server behind.
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/** The environment of every server and CLI call: development, fast hashing, no rate limits. */
function serverEnv(dataDir, overrides) {
  const env = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith("IKIGAI_")) env[name] = value;
  }
  return {
    ...env,
    IKIGAI_ENV: "development",
    IKIGAI_DATA_DIR: dataDir,
    IKIGAI_JWT_SECRET: randomBytes(48).toString("base64"),
    IKIGAI_ARGON2_MEMORY_KIB: "8192",
    IKIGAI_ARGON2_OPS: "1",
    IKIGAI_RATE_LIMITS: "off",
    IKIGAI_JOBS_INTERVAL: "1s",
    IKIGAI_LOG_LEVEL: "warn",
    ...overrides,
  };
}

/**
 * Starts a server. `env` overrides settings (e.g. IKIGAI_ACCESS_TTL: "2" for expiry tests).
 * Returns { baseUrl, port, dataDir, mailDir, createUser(), stop() }.
 */
export async function startServer({ env: overrides = {}, host = "127.0.0.1" } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), "ikigai-client-test-"));
  const env = serverEnv(dataDir, overrides);
  const child = spawn(binary, ["serve", "--listen", "127.0.0.1:0"], { env, stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const port = await new Promise((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error(`ikigai serve did not listen within 20 s:\n${stderr}`)), 20000);
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      const match = /listening on 127\.0\.0\.1:(\d+)\n/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolvePort(Number(match[1]));
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`ikigai serve exited with ${code} before listening:\n${stderr}`));
    });
  });

  return {
    port,
    baseUrl: `http://${host}:${port}`,
    dataDir,
    mailDir: join(dataDir, "mail"),
    log: () => stderr,
    /** `ikigai user create` on the server's database (the way the first admin is made). */
    createUser({ username, email, password, role = "user" }) {
      execFileSync(binary, ["user", "create", "--username", username, "--email", email, "--role", role, "--password-stdin"], {
        env,
        input: `${password}\n`,
        stdio: ["pipe", "ignore", "pipe"],
      });
    },
    /** SIGTERM, then SIGKILL after 10 s; removes the data folder. */
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((done) => child.once("exit", done));
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 10000);
        await exited;
        clearTimeout(timer);
      }
      running.delete(child);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A TOTP code of `secret` (base32) at now + offsetSeconds, from Debian's oathtool. */
export function totp(secret, offsetSeconds = 0) {
  const at = new Date(Date.now() + offsetSeconds * 1000).toISOString().replace(/\.\d+Z$/, "Z");
  return execFileSync("oathtool", ["--totp", "-b", "--now", at, secret], { encoding: "utf8" }).trim();
}

/** Counts requests by path and lets a test look at them: wrap it around fetch. */
export function countingFetch(inner = (request) => fetch(request)) {
  const seen = [];
  const wrapped = async (request) => {
    seen.push({ method: request.method, path: new URL(request.url).pathname });
    return inner(request);
  };
  wrapped.count = (path) => seen.filter((r) => r.path === path).length;
  wrapped.seen = seen;
  return wrapped;
}

export const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/** Polls `check` (async, truthy when done) every 100 ms for up to `timeoutMs`. */
export async function waitFor(check, timeoutMs = 10000, what = "condition") {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}
