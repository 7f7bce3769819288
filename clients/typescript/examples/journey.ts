// A frontend developer's journey with @ikigai/client, step by step. README.md shows this file and
// test/node.test.js runs it against the real server, so the example cannot rot.
import {
  createIkigaiClient,
  isIkigaiProblemError,
  unwrap,
  type EventSourceConstructor,
  type IkigaiClient,
  type Notification,
} from "@ikigai/client";

export interface Account {
  username: string;
  email: string;
  password: string;
}

// 1. Register, then sign in. With two-factor sign-in on, signIn answers a second step that takes
//    a code of the authenticator app (or one of the recovery codes).
export async function registerAndSignIn(
  baseUrl: string,
  account: Account,
  askForCode: () => Promise<string>,
  EventSource?: EventSourceConstructor,
): Promise<IkigaiClient> {
  const client = createIkigaiClient({ baseUrl, EventSource });
  await unwrap(client.api.POST("/api/v1/auth/register", { body: account }));
  const step = await client.signIn({ login: account.username, password: account.password });
  if (step.status === "mfa_required") await step.complete(await askForCode());
  return client;
}

// 2. Tasks: create, update, and read the machine-readable error of a bad request.
export async function planTheWeek(client: IkigaiClient): Promise<string[]> {
  const essay = await unwrap(
    client.api.POST("/api/v1/tasks", {
      body: { title: "Write the essay", due_at: "2026-12-24T10:00:00Z", tags: ["writing"] },
    }),
  );
  await unwrap(
    client.api.PATCH("/api/v1/tasks/{id}", { params: { path: { id: essay.id } }, body: { status: "in_progress" } }),
  );
  const problems: string[] = [];
  try {
    await unwrap(client.api.POST("/api/v1/tasks", { body: { title: "", priority: "high" } }));
  } catch (error) {
    // 422 validation_failed: branch on error_codes, show errors (English) if you like.
    if (!isIkigaiProblemError(error) || error.code !== "validation_failed") throw error;
    for (const [field, code] of Object.entries(error.error_codes)) problems.push(`${field}: ${code}`);
  }
  return problems;
}

// 3. Every task, page after page (the client follows next_cursor).
export async function allTaskTitles(client: IkigaiClient): Promise<string[]> {
  const titles: string[] = [];
  for await (const task of client.paginate((cursor) =>
    client.api.GET("/api/v1/tasks", { params: { query: { sort: "created_at", limit: 10, cursor } } }),
  )) {
    titles.push(task.title);
  }
  return titles;
}

// 4. Live notifications: resolves with the first one that arrives (the stream reconnects by
//    itself with a new ticket and the last id it saw); `onOpen` runs when it is listening.
export function firstNotification(client: IkigaiClient, onOpen: () => void): Promise<Notification> {
  return new Promise((resolve) => {
    const stream = client.streamNotifications({
      onOpen,
      onNotification: (notification) => {
        stream.close();
        resolve(notification);
      },
    });
  });
}

// 5. Sign out: the session ends on the server, later calls are 401.
export async function signOut(client: IkigaiClient): Promise<void> {
  await client.signOut();
}
