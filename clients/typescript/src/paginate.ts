// Async iteration over the API's cursor pages: `{"items": [...], "next_cursor": "..." | null}`.
import { unwrap, type FetchResult } from "./problem.js";

/** The shape every list answers with (tasks, notifications, feedback, activity, users, ...). */
export interface Page<T> {
  items?: T[];
  next_cursor?: string | null;
}

/**
 * Every item of a list, page after page, fetched lazily as the loop asks for more:
 *
 * ```ts
 * for await (const task of paginate((cursor) =>
 *   client.api.GET("/api/v1/tasks", { params: { query: { sort: "due_at", limit: 50, cursor } } }))) { ... }
 * ```
 *
 * `fetchPage` gets `undefined` for the first page and the previous `next_cursor` after that; the
 * item type comes from the typed call, so no cast is needed. An error answer is thrown as an
 * IkigaiProblemError (a 400 for a cursor the server no longer accepts, for instance).
 */
export async function* paginate<T>(
  fetchPage: (cursor: string | undefined) => Promise<FetchResult<Page<T>>>,
): AsyncGenerator<T, void, undefined> {
  let cursor: string | undefined;
  do {
    const page = await unwrap(fetchPage(cursor));
    yield* page.items ?? [];
    cursor = page.next_cursor ?? undefined;
  } while (cursor !== undefined);
}
