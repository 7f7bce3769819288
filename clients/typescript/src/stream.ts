// The notification stream: a single-use ticket, an EventSource on /notifications/stream?ticket=,
// and on any error a new ticket with `last_event_id` (EventSource's own reconnect would present
// the spent ticket again, get 401 and give up).
import type { Client } from "openapi-fetch";
import type { components, paths } from "./generated/api.js";
import { notificationKindValues } from "./generated/api.js";
import { IkigaiProblemError, isOneOf, unwrap } from "./problem.js";

export type Notification = components["schemas"]["Notification"];

/** The part of the WHATWG EventSource the stream uses (browsers' own, or the `eventsource` package). */
export interface EventSourceLike {
  addEventListener(type: "notification", listener: (event: MessageEvent<string>) => void): void;
  onopen: ((event: Event) => void) | null;
  onerror: ((event: Event) => void) | null;
  close(): void;
}
export type EventSourceConstructor = new (url: string) => EventSourceLike;

export interface NotificationStreamOptions {
  /** Called for every notification, in order; `lastEventId` is already updated. */
  onNotification(notification: Notification): void;
  /** Told about every failure (a lost connection, a refused ticket); the stream keeps trying unless `fatal`. */
  onError?(error: unknown, fatal: boolean): void;
  /** Called each time a connection is open (the first, and after each reconnect). */
  onOpen?(): void;
  /** Resume after this notification id (one remembered from an earlier stream). */
  lastEventId?: string | undefined;
  /** Delay before the first reconnect, doubled per failed attempt up to `maxDelayMs` (1000, 30000). */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Default: globalThis.EventSource. */
  EventSource?: EventSourceConstructor | undefined;
  /** Given by createIkigaiClient. */
  api: Client<paths>;
  baseUrl: string;
}

export interface NotificationStream {
  /** The id of the last notification delivered (what a reconnect resumes after). */
  readonly lastEventId: string | undefined;
  /** Drops the current connection and reconnects as after an error (new ticket, last_event_id). */
  reconnect(): void;
  /** Stops for good. */
  close(): void;
}

function isNotification(value: unknown): value is Notification {
  if (typeof value !== "object" || value === null) return false;
  const n: { [key: string]: unknown } = { ...value };
  return (
    typeof n.id === "string" &&
    isOneOf(notificationKindValues, n.kind) &&
    typeof n.title === "string" &&
    typeof n.body === "string" &&
    typeof n.created_at === "string"
  );
}

function defaultEventSource(): EventSourceConstructor {
  if (typeof EventSource === "undefined") {
    throw new Error("No EventSource here: pass one (e.g. from the `eventsource` package) as the EventSource option.");
  }
  return EventSource;
}

export function openNotificationStream(options: NotificationStreamOptions): NotificationStream {
  const EventSourceImpl = options.EventSource ?? defaultEventSource();
  const initialDelay = options.initialDelayMs ?? 1000;
  const maxDelay = options.maxDelayMs ?? 30000;
  let lastEventId = options.lastEventId;
  let source: EventSourceLike | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let delay = initialDelay;
  let closed = false;
  let generation = 0; // ignores events of a connection that was replaced

  function fail(error: unknown, fatal: boolean): void {
    options.onError?.(error, fatal);
    if (fatal) stop();
  }

  function scheduleReconnect(): void {
    source?.close();
    source = undefined;
    if (closed || timer !== undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, delay);
    delay = Math.min(delay * 2, maxDelay);
  }

  async function connect(): Promise<void> {
    const mine = ++generation;
    let ticket: string;
    try {
      ({ ticket } = await unwrap(options.api.POST("/api/v1/notifications/stream-ticket")));
    } catch (error) {
      // 401 after the client's own refresh attempt: the session is over, stop.
      fail(error, error instanceof IkigaiProblemError && error.status === 401);
      scheduleReconnect();
      return;
    }
    if (closed || mine !== generation) return;
    let url = `${options.baseUrl}/api/v1/notifications/stream?ticket=${encodeURIComponent(ticket)}`;
    if (lastEventId !== undefined) url += `&last_event_id=${encodeURIComponent(lastEventId)}`;
    const es = new EventSourceImpl(url);
    source = es;
    es.onopen = () => {
      if (mine !== generation) return;
      delay = initialDelay;
      options.onOpen?.();
    };
    es.addEventListener("notification", (event) => {
      if (mine !== generation) return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(event.data);
      } catch (error) {
        fail(error, false);
        return;
      }
      if (!isNotification(parsed)) {
        fail(new Error("The stream sent an event that is not a Notification."), false);
        return;
      }
      lastEventId = parsed.id;
      options.onNotification(parsed);
    });
    es.onerror = (event) => {
      if (mine !== generation) return;
      fail(event, false);
      generation++;
      scheduleReconnect();
    };
  }

  function stop(): void {
    closed = true;
    generation++;
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    source?.close();
    source = undefined;
  }

  void connect();
  return {
    get lastEventId() {
      return lastEventId;
    },
    reconnect() {
      if (closed) return;
      generation++;
      source?.close();
      source = undefined;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      void connect();
    },
    close: stop,
  };
}
