// Compile-time checks (never run): what the generated types refuse. `npm run build` compiles this
// file; each @ts-expect-error fails the build if the line below it ever compiles.
import { createIkigaiClient, isIkigaiProblemError, unwrap, type components, type FieldErrorCode } from "@ikigai/client";

export async function typeChecks(): Promise<void> {
  const client = createIkigaiClient({ baseUrl: "http://localhost:8080" });

  // @ts-expect-error a task needs a title
  await client.api.POST("/api/v1/tasks", { body: {} });
  // Not refused at compile time: openapi-fetch infers the whole init object as a type parameter,
  // so TypeScript's excess-property check does not apply to bodies (openapi-ts/openapi-typescript
  // issue 1769); `{ version: 2 }` or an extra member next to `title` compiles, and the server's
  // 422 (read_only, unknown_field) is the guard...
  await client.api.PATCH("/api/v1/tasks/{id}", { params: { path: { id: "x" } }, body: { version: 2 } });
  await client.api.POST("/api/v1/tasks", { body: { title: "x", colour: "red" } });
  // ...unless the body is declared with its schema type first:
  // @ts-expect-error an unknown member in a typed literal
  const typed: components["schemas"]["TaskCreate"] = { title: "x", colour: "red" };
  await client.api.POST("/api/v1/tasks", { body: typed });
  // @ts-expect-error a member of the wrong type is refused
  await client.api.PATCH("/api/v1/tasks/{id}", { params: { path: { id: "x" } }, body: { status: "finished" } });
  // @ts-expect-error no such path
  await client.api.GET("/api/v1/taks");
  // @ts-expect-error no such sort order
  await client.api.GET("/api/v1/tasks", { params: { query: { sort: "title" } } });

  const task = await unwrap(client.api.GET("/api/v1/tasks/{id}", { params: { path: { id: "x" } } }));
  const title: string = task.title; // required members are not optional
  const due: string | null = task.due_at;
  // @ts-expect-error due_at may be null
  const dueText: string = task.due_at;

  try {
    await unwrap(client.api.POST("/api/v1/tasks", { body: { title } }));
  } catch (error) {
    if (isIkigaiProblemError(error)) {
      const code: FieldErrorCode | undefined = error.error_codes["title"];
      // @ts-expect-error error codes are an enum, not any string
      const wrong: FieldErrorCode = "nonsense";
      // @ts-expect-error reasons too
      if (error.reason === "stale") return;
      void [code, wrong];
    }
  }

  for await (const notification of client.paginate((cursor) =>
    client.api.GET("/api/v1/notifications", { params: { query: { unread: "true", cursor } } }),
  )) {
    // The item type comes from the call: a Notification, whose kind is an enum.
    // @ts-expect-error
    const kind: "reminder" = notification.kind;
    void kind;
  }
  void [due, dueText];
}
