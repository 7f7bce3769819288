// The client against the real server binary, in node: the README journey, refresh rules,
// problems, cookie mode through a cookie jar, two-factor sign-in and the notification stream.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { EventSource } from "eventsource";
import { createIkigaiClient, isIkigaiProblemError, IkigaiProblemError, unwrap, expectOk, paginate } from "@ikigai/client";
import { registerAndSignIn, planTheWeek, allTaskTitles, firstNotification, signOut } from "../dist-examples/journey.js";
import { countingFetch, sleep, startServer, totp, waitFor } from "./harness.js";

const ACCESS_TTL_SECONDS = 4;
const PASSWORD = "correct horse battery staple";
let server;
let admin;

function account(prefix) {
  const name = `${prefix}_${randomBytes(4).toString("hex")}`;
  return { username: name, email: `${name}@example.com`, password: PASSWORD };
}

async function register(who) {
  const client = createIkigaiClient({ baseUrl: server.baseUrl });
  await unwrap(client.api.POST("/api/v1/auth/register", { body: who }));
}

async function signedIn(who, options = {}) {
  const client = createIkigaiClient({ baseUrl: server.baseUrl, EventSource, ...options });
  const step = await client.signIn({ login: who.username, password: who.password });
  assert.equal(step.status, "signed_in");
  return client;
}

async function announce(title, body, userId) {
  const { recipients } = await unwrap(
    admin.api.POST("/api/v1/admin/notifications", { body: { title, body, user_ids: [userId] } }),
  );
  assert.equal(recipients, 1);
}

before(async () => {
  server = await startServer({ env: { IKIGAI_ACCESS_TTL: String(ACCESS_TTL_SECONDS) } });
  const boss = account("admin");
  server.createUser({ ...boss, role: "admin" });
  admin = await signedIn(boss);
});

after(async () => {
  await server?.stop();
});

describe("the README journey", () => {
  test("register, sign in, tasks, pages, a live notification, sign out", async () => {
    const me = account("alice");
    const client = await registerAndSignIn(server.baseUrl, me, () => Promise.reject(new Error("no 2FA here")), EventSource);

    const problems = await planTheWeek(client);
    assert.deepEqual(problems, ["title: required"]);

    for (let i = 1; i <= 24; i++) {
      await unwrap(client.api.POST("/api/v1/tasks", { body: { title: `Task ${i}` } }));
    }
    const titles = await allTaskTitles(client);
    assert.equal(titles.length, 25);
    assert.equal(titles[0], "Write the essay");
    assert.equal(titles[24], "Task 24");

    const { id } = await unwrap(client.api.GET("/api/v1/me"));
    const first = firstNotification(client, () => void announce("Welcome", "Glad you are here.", id));
    const notification = await first;
    assert.equal(notification.kind, "announcement");
    assert.equal(notification.title, "Welcome");

    await signOut(client);
    assert.equal(client.signedIn, false);
    const { error, response } = await client.api.GET("/api/v1/me");
    assert.equal(response.status, 401);
    assert.equal(new IkigaiProblemError(response.status, error).reason, "missing");
  });
});

test("README.md shows examples/journey.ts exactly", () => {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const journey = readFileSync(new URL("../examples/journey.ts", import.meta.url), "utf8");
  const block = /## The journey[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme);
  assert.ok(block, "README.md has a ```ts block under ## The journey");
  assert.equal(block[1], journey);
});

describe("tasks and pages", () => {
  test("CRUD with ETag/If-Match and paginate across pages in order", async () => {
    const me = account("pages");
    await register(me);
    const client = await signedIn(me);
    const created = await unwrap(client.api.POST("/api/v1/tasks", { body: { title: "Read", tags: ["books"] } }));
    assert.equal(created.version, 1);
    const updated = await unwrap(
      client.api.PATCH("/api/v1/tasks/{id}", { params: { path: { id: created.id } }, body: { status: "done" } }),
    );
    assert.equal(updated.status, "done");
    assert.equal(updated.version, 2);
    await assert.rejects(
      unwrap(
        client.api.PATCH("/api/v1/tasks/{id}", {
          params: { path: { id: created.id } },
          headers: { "If-Match": '"1"' },
          body: { title: "stale" },
        }),
      ),
      (e) => isIkigaiProblemError(e) && e.status === 412 && e.code === "precondition_failed",
    );
    await expectOk(client.api.DELETE("/api/v1/tasks/{id}", { params: { path: { id: created.id } } }));
    await assert.rejects(
      unwrap(client.api.GET("/api/v1/tasks/{id}", { params: { path: { id: created.id } } })),
      (e) => isIkigaiProblemError(e) && e.status === 404 && e.code === "not_found",
    );

    for (let i = 0; i < 7; i++) await unwrap(client.api.POST("/api/v1/tasks", { body: { title: `t${i}` } }));
    const counter = countingFetch();
    const counted = await signedIn(me, { fetch: counter });
    const seen = [];
    for await (const task of paginate((cursor) =>
      counted.api.GET("/api/v1/tasks", { params: { query: { sort: "created_at", limit: 3, cursor } } }),
    )) {
      seen.push(task.title);
    }
    assert.deepEqual(seen, ["t0", "t1", "t2", "t3", "t4", "t5", "t6"]);
    assert.equal(counter.count("/api/v1/tasks"), 3); // 3 + 3 + 1, the last page's next_cursor is null

    // Breaking out of the loop fetches no further page.
    for await (const task of counted.paginate((cursor) =>
      counted.api.GET("/api/v1/tasks", { params: { query: { sort: "created_at", limit: 3, cursor } } }),
    )) {
      assert.equal(task.title, "t0");
      break;
    }
    assert.equal(counter.count("/api/v1/tasks"), 4);
  });

  test("a bad cursor is a typed 400 thrown from the loop", async () => {
    const me = account("cursor");
    await register(me);
    const client = await signedIn(me);
    await assert.rejects(
      (async () => {
        for await (const _ of client.paginate(() =>
          client.api.GET("/api/v1/tasks", { params: { query: { cursor: "not-a-cursor" } } }),
        )) {
          assert.fail("no item expected");
        }
      })(),
      (e) => isIkigaiProblemError(e) && e.status === 400 && e.code === "bad_request" && e.errors.cursor !== undefined,
    );
  });
});

test("email verification with the link from the development mail folder", async () => {
  const me = account("verify");
  await register(me);
  // Development writes each mail as DATA_DIR/mail/*.eml, plain text with the link intact.
  const link = await waitFor(
    () => {
      let files = [];
      try {
        files = readdirSync(server.mailDir).filter((f) => f.endsWith(".eml"));
      } catch {
        return undefined; // the folder is made with the first mail
      }
      for (const file of files) {
        const mail = readFileSync(join(server.mailDir, file), "utf8");
        if (!mail.includes(`To: ${me.email}`) && !mail.includes(`<${me.email}>`)) continue;
        const match = /\/verify-email\?token=([A-Za-z0-9_-]+)/.exec(mail);
        if (match) return match[1];
      }
      return undefined;
    },
    15000,
    "the verification mail",
  );
  const client = await signedIn(me);
  assert.equal((await unwrap(client.api.GET("/api/v1/me"))).email_verified, false);
  await expectOk(client.api.POST("/api/v1/auth/email/verify", { body: { token: link } }));
  assert.equal((await unwrap(client.api.GET("/api/v1/me"))).email_verified, true);
  const reused = await expectOk(client.api.POST("/api/v1/auth/email/verify", { body: { token: link } })).catch((e) => e);
  assert.ok(isIkigaiProblemError(reused));
  assert.equal(reused.code, "invalid_token");
});

describe("problems", () => {
  test("a 422 carries error_codes, errors, the request id", async () => {
    const me = account("typed");
    await register(me);
    const client = await signedIn(me);
    const error = await unwrap(
      client.api.POST("/api/v1/tasks", {
        headers: { "X-Request-Id": "client-test-422" },
        body: { title: "x".repeat(201), priority: "urgent", tags: ["a", "a"] },
      }),
    ).catch((e) => e);
    assert.ok(isIkigaiProblemError(error));
    assert.equal(error.status, 422);
    assert.equal(error.code, "validation_failed");
    assert.equal(error.type, "urn:ikigai:problem:validation_failed");
    assert.deepEqual(error.error_codes, { title: "too_long", priority: "invalid_value", tags: "invalid_value" });
    assert.deepEqual(Object.keys(error.errors).sort(), ["priority", "tags", "title"]);
    assert.equal(error.request_id, "client-test-422");
    assert.ok(error instanceof Error);
  });

  test("register twice: 409 with error_codes taken", async () => {
    const me = account("twice");
    await register(me);
    const error = await register(me).catch((e) => e);
    assert.ok(isIkigaiProblemError(error));
    assert.equal(error.status, 409);
    assert.equal(error.code, "conflict");
    assert.deepEqual(error.error_codes, { username: "taken", email: "taken" });
  });

  test("a wrong password is 401 invalid_credentials and leaves the client signed out", async () => {
    const me = account("wrong");
    await register(me);
    const client = createIkigaiClient({ baseUrl: server.baseUrl });
    const error = await client.signIn({ login: me.username, password: "not the password" }).catch((e) => e);
    assert.ok(isIkigaiProblemError(error));
    assert.equal(error.code, "invalid_credentials");
    assert.equal(client.signedIn, false);
  });

  test("an answer that is not a problem still becomes an IkigaiProblemError", () => {
    const error = new IkigaiProblemError(502, "<html>Bad gateway</html>", new Headers({ "Retry-After": "7" }));
    assert.equal(error.code, undefined);
    assert.equal(error.type, "about:blank");
    assert.equal(error.retry_after, 7);
    assert.deepEqual(error.error_codes, {});
  });
});

describe("refresh", () => {
  test("parallel calls on an expired token refresh exactly once, then all succeed", async () => {
    const me = account("parallel");
    await register(me);
    const counter = countingFetch();
    const client = await signedIn(me, { fetch: counter });
    await sleep(ACCESS_TTL_SECONDS * 1000 + 1100);
    const results = await Promise.all(Array.from({ length: 8 }, () => unwrap(client.api.GET("/api/v1/me"))));
    assert.deepEqual(new Set(results.map((u) => u.username)), new Set([me.username]));
    assert.equal(counter.count("/api/v1/auth/refresh"), 1);
    assert.equal(counter.count("/api/v1/me"), 16); // each call: the 401, then the retry

    // A call with a body is retried with the same body.
    await sleep(ACCESS_TTL_SECONDS * 1000 + 1100);
    const task = await unwrap(client.api.POST("/api/v1/tasks", { body: { title: "after expiry" } }));
    assert.equal(task.title, "after expiry");
    assert.equal(counter.count("/api/v1/auth/refresh"), 2);
  });

  test("a revoked session is not refreshed: the client signs out and reports it", async () => {
    const me = account("revoked");
    await register(me);
    const ended = [];
    const counter = countingFetch();
    const client = await signedIn(me, { fetch: counter, onSessionEnd: (problem) => ended.push(problem.reason) });
    const other = await signedIn(me);
    await other.signOut({ everywhere: true });
    const error = await unwrap(client.api.GET("/api/v1/me")).catch((e) => e);
    assert.ok(isIkigaiProblemError(error));
    assert.equal(error.status, 401);
    assert.equal(error.reason, "revoked");
    assert.deepEqual(ended, ["revoked"]);
    assert.equal(client.signedIn, false);
    assert.equal(counter.count("/api/v1/auth/refresh"), 0);
  });

  test("sign-out, then a call fails with 401 and a refresh with the old token too", async () => {
    const me = account("signout");
    await register(me);
    const sessions = [];
    const client = await signedIn(me, {
      tokens: { load: () => sessions.at(-1), save: (s) => sessions.push(s) },
    });
    const { refreshToken, accessToken } = sessions.at(-1);
    assert.ok(refreshToken, "body mode keeps the refresh token");
    await client.signOut();
    assert.equal(sessions.at(-1), undefined);
    const bare = createIkigaiClient({ baseUrl: server.baseUrl });
    const { response } = await bare.api.GET("/api/v1/me", { headers: { Authorization: `Bearer ${accessToken}` } });
    assert.equal(response.status, 401);
    const refused = await unwrap(bare.api.POST("/api/v1/auth/refresh", { body: { refresh_token: refreshToken } })).catch(
      (e) => e,
    );
    assert.ok(isIkigaiProblemError(refused));
    assert.equal(refused.status, 401);
  });
});

describe("cookie mode in node", () => {
  // Node's fetch has no cookie store: this jar plays the browser's part for the one cookie.
  function cookieJar() {
    let cookie;
    const jarFetch = async (request) => {
      if (cookie !== undefined) request.headers.set("Cookie", cookie);
      jarFetch.sent.push({ path: new URL(request.url).pathname, cookie, mode: request.headers.get("X-Ikigai-Refresh") });
      const response = await fetch(request);
      for (const line of response.headers.getSetCookie()) {
        const [pair] = line.split(";");
        if (!pair.startsWith("__Host-ikigai_refresh=")) continue;
        assert.match(line, /HttpOnly/);
        assert.match(line, /SameSite=Strict/);
        cookie = /Max-Age=0(;|$)/.test(line) ? undefined : pair;
      }
      return response;
    };
    jarFetch.sent = [];
    jarFetch.cookie = () => cookie;
    return jarFetch;
  }

  test("sign in, refresh through the cookie after expiry, resume, sign out clears it", async () => {
    const me = account("cookie");
    await register(me);
    const jar = cookieJar();
    const sessions = [];
    const client = createIkigaiClient({
      baseUrl: server.baseUrl,
      refreshMode: "cookie",
      fetch: jar,
      tokens: { load: () => sessions.at(-1), save: (s) => sessions.push(s) },
    });
    const step = await client.signIn({ login: me.email, password: me.password });
    assert.equal(step.status, "signed_in");
    assert.ok(jar.cookie(), "the refresh token came as a cookie");
    assert.equal(sessions.at(-1).refreshToken, undefined, "and not in the body");

    await sleep(ACCESS_TTL_SECONDS * 1000 + 1100);
    const user = await unwrap(client.api.GET("/api/v1/me"));
    assert.equal(user.username, me.username);
    const refreshes = jar.sent.filter((r) => r.path === "/api/v1/auth/refresh");
    assert.equal(refreshes.length, 1);
    assert.equal(refreshes[0].mode, "cookie");
    assert.ok(refreshes[0].cookie);

    // A reload: a new client with nothing in memory resumes from the cookie.
    const reloaded = createIkigaiClient({ baseUrl: server.baseUrl, refreshMode: "cookie", fetch: jar });
    assert.equal((await reloaded.resume())?.username, me.username);

    await reloaded.signOut();
    assert.equal(jar.cookie(), undefined, "logout cleared the cookie");
    const again = createIkigaiClient({ baseUrl: server.baseUrl, refreshMode: "cookie", fetch: jar });
    assert.equal(await again.resume(), undefined);
  });
});

describe("two-factor sign-in", () => {
  test("enrol through the API, then sign in with a TOTP code and with a recovery code", async () => {
    const me = account("mfa");
    await register(me);
    const client = await signedIn(me);
    const { secret, otpauth_url } = await unwrap(
      client.api.POST("/api/v1/me/mfa/totp", { body: { current_password: me.password } }),
    );
    assert.match(otpauth_url, /^otpauth:\/\/totp\//);
    const { recovery_codes } = await unwrap(client.api.POST("/api/v1/me/mfa/totp/confirm", { body: { code: totp(secret) } }));
    assert.equal(recovery_codes.length, 10);
    assert.equal((await unwrap(client.api.GET("/api/v1/me"))).mfa_enabled, true);

    const fresh = createIkigaiClient({ baseUrl: server.baseUrl });
    const step = await fresh.signIn({ login: me.username, password: me.password });
    assert.equal(step.status, "mfa_required");
    assert.equal(fresh.signedIn, false);
    // A wrong code: 401, and the same step takes another code.
    const wrong = await step.complete("000000").catch((e) => e);
    assert.ok(isIkigaiProblemError(wrong));
    assert.equal(wrong.code, "invalid_credentials");
    // The confirming code's step is used: the next step's code (accepted one step ahead).
    const user = await step.complete(totp(secret, 30));
    assert.equal(user.username, me.username);
    assert.equal((await unwrap(fresh.api.GET("/api/v1/me"))).id, user.id);

    const another = createIkigaiClient({ baseUrl: server.baseUrl });
    const second = await another.signIn({ login: me.email, password: me.password });
    assert.equal(second.status, "mfa_required");
    const viaRecovery = await second.complete(recovery_codes[0].toLowerCase());
    assert.equal(viaRecovery.id, user.id);
    // The step is spent once used.
    const spent = await second.complete(recovery_codes[1]).catch((e) => e);
    assert.ok(isIkigaiProblemError(spent));
    assert.equal(spent.code, "invalid_token");
  });
});

describe("the notification stream", () => {
  // An EventSource whose connections the test can drop, and whose next connection waits for the
  // test's go: so a notification is certain to be made while no stream is open.
  function gatedEventSource() {
    const state = { urls: [], current: undefined, gate: Promise.resolve() };
    class Gated {
      constructor(url) {
        state.urls.push(url);
        state.current = this;
        this.listeners = [];
        this.onopen = null;
        this.onerror = null;
        state.gate.then(() => {
          if (this.closed) return;
          this.inner = new EventSource(url);
          this.inner.onopen = (e) => this.onopen?.(e);
          this.inner.onerror = (e) => this.onerror?.(e);
          for (const listener of this.listeners) this.inner.addEventListener("notification", listener);
        });
      }
      addEventListener(type, listener) {
        assert.equal(type, "notification");
        this.listeners.push(listener);
        this.inner?.addEventListener(type, listener);
      }
      close() {
        this.closed = true;
        this.inner?.close();
      }
      drop() {
        this.inner.close();
        this.onerror?.(new Event("error"));
      }
    }
    return { Gated, state };
  }

  test("delivers typed notifications and resumes with last_event_id after a lost connection", async () => {
    const me = account("stream");
    await register(me);
    const { Gated, state } = gatedEventSource();
    const client = await signedIn(me, { EventSource: Gated });
    const { id: userId } = await unwrap(client.api.GET("/api/v1/me"));
    const received = [];
    const errors = [];
    let opens = 0;
    const stream = client.streamNotifications({
      initialDelayMs: 50,
      onOpen: () => opens++,
      onNotification: (n) => received.push(n),
      onError: (e, fatal) => errors.push(fatal),
    });
    try {
      await waitFor(() => opens === 1, 10000, "the stream to open");
      await announce("First", "one", userId);
      await waitFor(() => received.length === 1, 15000, "the first notification");
      assert.equal(received[0].title, "First");
      assert.equal(stream.lastEventId, received[0].id);

      // Lose the connection; hold the reconnect until the second notification exists.
      let release;
      state.gate = new Promise((go) => (release = go));
      state.current.drop();
      await waitFor(() => state.urls.length === 2, 10000, "the reconnect with a new ticket");
      await announce("Second", "two", userId);
      await waitFor(
        async () => (await unwrap(client.api.GET("/api/v1/notifications"))).items.some((n) => n.title === "Second"),
        15000,
        "the second notification in the inbox",
      );
      release();
      await waitFor(() => received.length === 2, 15000, "the missed notification after the reconnect");
      assert.equal(received[1].title, "Second");
      assert.equal(received[1].kind, "announcement");

      const [firstUrl, secondUrl] = state.urls.map((u) => new URL(u));
      assert.equal(firstUrl.searchParams.get("last_event_id"), null);
      assert.equal(secondUrl.searchParams.get("last_event_id"), received[0].id);
      assert.notEqual(firstUrl.searchParams.get("ticket"), secondUrl.searchParams.get("ticket"));
      assert.deepEqual(errors, [false]);

      // Live again: a third arrives once, nothing twice.
      await waitFor(() => opens === 2, 10000, "the second connection to open");
      await announce("Third", "three", userId);
      await waitFor(() => received.length === 3, 15000, "the third notification");
      assert.deepEqual(
        received.map((n) => n.title),
        ["First", "Second", "Third"],
      );
    } finally {
      stream.close();
    }
  });
});
