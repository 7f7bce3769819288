// Cookie mode in a real browser: headless Debian Chromium loads the built client from a page on
// another origin (another port of localhost) and signs in, reads /me, refreshes through the
// HttpOnly __Host- cookie after the access token expired, signs out, and then cannot refresh.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createServer } from "node:http";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { randomBytes } from "node:crypto";
import { chromium } from "playwright-core";
import { startServer } from "./harness.js";

// Long enough that a slow machine does not expire the token between sign-in and the first /me.
const ACCESS_TTL_SECONDS = 8;
const CHROMIUM = process.env.IKIGAI_CHROMIUM ?? "/usr/bin/chromium";
const root = resolve(fileURLToPath(new URL("..", import.meta.url)));

// The page: an import map points the bare `openapi-fetch` import of dist/ at the package's ESM
// file, so the built client runs unbundled.
const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>ikigai client</title>
<script type="importmap">{"imports": {"openapi-fetch": "/vendor/openapi-fetch.mjs"}}</script>
<script type="module">
  window.ikigai = await import("/dist/index.js");
  document.title = "ready";
</script>`;

const FILES = {
  "/vendor/openapi-fetch.mjs": join(root, "node_modules/openapi-fetch/dist/index.mjs"),
};

function serveFile(path, response) {
  let file = FILES[path];
  if (file === undefined && path.startsWith("/dist/")) {
    file = join(root, normalize(path));
    if (!file.startsWith(join(root, "dist"))) file = undefined;
  }
  if (file === undefined) {
    response.writeHead(404).end();
    return;
  }
  try {
    const body = readFileSync(file);
    response.writeHead(200, { "Content-Type": "text/javascript; charset=utf-8" }).end(body);
  } catch {
    response.writeHead(404).end();
  }
}

let api;
let pages;
let pageOrigin;
let context;
let profile;

before(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: install Debian's chromium (bash scripts/deps.sh test) or set IKIGAI_CHROMIUM`);
  }
  api = await startServer({ env: { IKIGAI_ACCESS_TTL: String(ACCESS_TTL_SECONDS) }, host: "localhost" });
  pages = createServer((request, response) => {
    const path = new URL(request.url, "http://localhost").pathname;
    if (path === "/") response.writeHead(200, { "Content-Type": "text/html; charset=utf-8" }).end(PAGE);
    else serveFile(path, response);
  });
  await new Promise((done) => pages.listen(0, "127.0.0.1", done));
  pageOrigin = `http://localhost:${pages.address().port}`;
  profile = mkdtempSync(join(tmpdir(), "ikigai-chromium-"));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});

after(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  await new Promise((done) => (pages ? pages.close(done) : done()));
  await api?.stop();
});

test("cookie mode across origins: sign in, /me, refresh by cookie, sign out, refresh refused", async () => {
  const page = await context.newPage();
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  const apiCalls = [];
  page.on("response", async (response) => {
    const url = new URL(response.url());
    if (url.origin !== api.baseUrl) return;
    const request = response.request();
    apiCalls.push({
      method: request.method(),
      path: url.pathname,
      status: response.status(),
      origin: (await request.allHeaders()).origin,
      allowOrigin: (await response.allHeaders())["access-control-allow-origin"],
      allowCredentials: (await response.allHeaders())["access-control-allow-credentials"],
    });
  });
  await page.goto(`${pageOrigin}/`);
  await page.waitForFunction(() => document.title === "ready");
  assert.notEqual(new URL(pageOrigin).port, new URL(api.baseUrl).port);

  const name = `chromium_${randomBytes(4).toString("hex")}`;
  const who = { username: name, email: `${name}@example.com`, password: "correct horse battery staple" };

  // Step 1, in the page: register and sign in in cookie mode.
  const signedIn = await page.evaluate(
    async ({ apiBase, who }) => {
      const { createIkigaiClient, unwrap } = window.ikigai;
      window.refreshes = 0;
      window.client = createIkigaiClient({
        baseUrl: apiBase,
        refreshMode: "cookie",
        fetch: (request) => {
          if (new URL(request.url).pathname === "/api/v1/auth/refresh") window.refreshes++;
          return fetch(request);
        },
      });
      await unwrap(window.client.api.POST("/api/v1/auth/register", { body: who }));
      const step = await window.client.signIn({ login: who.username, password: who.password });
      const me = await unwrap(window.client.api.GET("/api/v1/me"));
      return { origin: location.origin, step: step.status, username: me.username, cookies: document.cookie };
    },
    { apiBase: api.baseUrl, who },
  );
  assert.equal(signedIn.origin, pageOrigin);
  assert.notEqual(signedIn.origin, api.baseUrl, "the page and the API are different origins");
  assert.equal(signedIn.step, "signed_in");
  assert.equal(signedIn.username, who.username);
  assert.equal(signedIn.cookies, "", "the page sees no cookie");

  // The browser holds the refresh cookie for the API's origin, as the server set it.
  const cookies = await context.cookies(api.baseUrl);
  const refreshCookie = cookies.find((c) => c.name === "__Host-ikigai_refresh");
  assert.ok(refreshCookie, `Chromium stored the __Host- cookie from http://localhost (cookies: ${JSON.stringify(cookies)})`);
  assert.equal(refreshCookie.httpOnly, true);
  assert.equal(refreshCookie.secure, true);
  assert.equal(refreshCookie.sameSite, "Strict");
  assert.equal(refreshCookie.path, "/");

  // Step 2: past the access token's lifetime, /me refreshes through the cookie once and retries;
  // a "reload" (a client with nothing in memory) resumes from the cookie; then sign out.
  await new Promise((done) => setTimeout(done, ACCESS_TTL_SECONDS * 1000 + 1100));
  const later = await page.evaluate(
    async ({ apiBase }) => {
      const { createIkigaiClient, unwrap } = window.ikigai;
      const me = await unwrap(window.client.api.GET("/api/v1/me"));
      const refreshesAfterExpiry = window.refreshes;
      const reloaded = createIkigaiClient({ baseUrl: apiBase, refreshMode: "cookie" });
      const resumed = await reloaded.resume();
      await reloaded.signOut();
      const afterSignOut = await createIkigaiClient({ baseUrl: apiBase, refreshMode: "cookie" }).resume();
      const raw = await fetch(`${apiBase}/api/v1/auth/refresh`, {
        method: "POST",
        headers: { "X-Ikigai-Refresh": "cookie" },
        credentials: "include",
      });
      const oldToken = await window.client.api.GET("/api/v1/me");
      return {
        username: me.username,
        refreshesAfterExpiry,
        resumed: resumed?.username ?? null,
        afterSignOut: afterSignOut ?? null,
        rawStatus: raw.status,
        rawBody: await raw.json(),
        oldTokenStatus: oldToken.response.status,
      };
    },
    { apiBase: api.baseUrl },
  );
  assert.equal(later.username, who.username);
  assert.equal(later.refreshesAfterExpiry, 1, "one refresh through the cookie");
  assert.equal(later.resumed, who.username, "a fresh client resumed the session from the cookie");
  assert.equal(later.afterSignOut, null, "after sign-out the cookie no longer refreshes");
  assert.equal(later.rawStatus, 401);
  assert.equal(later.rawBody.code, "unauthorized");
  assert.equal(later.oldTokenStatus, 401, "the signed-out session's access token is refused too");
  assert.equal((await context.cookies(api.baseUrl)).find((c) => c.name === "__Host-ikigai_refresh"), undefined);

  // Every API answer the page read was a CORS answer with credentials for the page's origin.
  assert.ok(apiCalls.length >= 8, JSON.stringify(apiCalls));
  const refreshCalls = apiCalls.filter((c) => c.path === "/api/v1/auth/refresh" && c.method === "POST");
  assert.deepEqual(
    refreshCalls.map((c) => c.status),
    [200, 200, 401, 401],
  );
  for (const call of apiCalls.filter((c) => c.method !== "OPTIONS")) {
    assert.equal(call.origin, pageOrigin, JSON.stringify(call));
    assert.equal(call.allowOrigin, pageOrigin, JSON.stringify(call));
    assert.equal(call.allowCredentials, "true", JSON.stringify(call));
  }
  assert.deepEqual(pageErrors, []);
});
