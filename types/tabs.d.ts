// ---------------------------------------------------------------------------------------------
// threadtail/tabs: one connection per stream for all the tabs of an origin (Web Locks elect a
// leader, BroadcastChannel carries its events), and a resume after a reload from an IndexedDB
// cache (js/tabs.js).
//
//   import { SharedThreadStream } from "threadtail/tabs";
//   const stream = new SharedThreadStream({ baseUrl, sessionId, threadId, token, persist: true });
//   stream.onEvent((event, meta) => render(event, meta.cached));
// ---------------------------------------------------------------------------------------------
import type {
  EventType,
  EventMap,
  ThreadEvent,
  EventMeta,
  ThreadtailError,
  StreamState,
  ReconnectInfo,
  ThreadStreamOptions,
  SessionStreamOptions,
} from "./index.js";

/** What the tabs share and what is kept across reloads. */
export interface ShareOptions {
  /**
   * Share one connection with the other tabs (and dedicated workers) of the origin that follow
   * the same stream with the same credentials. Default true. Without Web Locks or
   * BroadcastChannel, or without a credentials identity, the stream opens its own connection
   * and warns (`not_shared`).
   */
  share?: boolean;
  /**
   * The credentials identity used in the sharing key instead of a SHA-256 of the token and
   * header values: required to share when `token` is a provider function (or where SubtleCrypto
   * is missing). Not a secret: a user or account id. Tabs with different keys do not share.
   */
  shareKey?: string;
  /**
   * Keep the resume point and a bounded cache of recent events in IndexedDB (never a token or
   * a header); after a reload the cached events are delivered first (`meta.cached`), then the
   * stream resumes from the stored point. `key` defaults to the sharing key. The stored point
   * wins over `lastEventId` when there is one.
   */
  persist?: boolean | PersistOptions;
}

export interface PersistOptions {
  /** The IndexedDB key of this stream's record. Default: the sharing key (needs a credentials identity). */
  key?: string;
  /** Events kept. Default 200. */
  maxEvents?: number;
  /** Bytes kept (as JSON). Default 1 MiB. An event larger than this empties the cache. */
  maxBytes?: number;
}

/** The second argument of a shared stream's event listeners. */
export interface SharedEventMeta extends EventMeta {
  /** True for events delivered from the IndexedDB cache after a reload, before the network. */
  readonly cached: boolean;
}

/** A problem of the sharing or the cache that does not stop the stream. */
export interface TabsWarning {
  kind: "not_shared" | "persist_unavailable" | "persist_corrupt" | "persist_version" | "persist_quota";
  message: string;
}

/** Who runs the network connection: this member ("leader", "own") or another tab ("follower"). */
export type SharedRole = "starting" | "leader" | "follower" | "own" | "closed";

declare class SharedStreamBase {
  /** Listens to one event type (typed); returns a function that removes the listener. */
  on<K extends EventType>(type: K, listener: (event: EventMap[K], meta: SharedEventMeta) => void): () => void;
  /** Listens to every event, known or not, each once per member. */
  onEvent(listener: (event: ThreadEvent, meta: SharedEventMeta) => void): () => void;
  /** The leader's stream errors (followers receive them too). */
  onError(listener: (error: ThreadtailError) => void): () => void;
  /** The leader's connection state (the same in every tab); "closed" when this member closes. */
  onStateChange(listener: (state: StreamState) => void): () => void;
  onReconnect(listener: (info: ReconnectInfo) => void): () => void;
  onWarning(listener: (warning: TabsWarning) => void): () => void;
  onRoleChange(listener: (role: SharedRole) => void): () => void;
  /** The resume point of the last event delivered to this member's listeners. */
  readonly lastEventId: string;
  readonly state: StreamState;
  readonly role: SharedRole;
  /** Reconnects of the connection this member followed. */
  readonly reconnects: number;
  /** Idempotent. A leader hands the connection over to another tab. */
  close(): void;
  /** Events as an async iterator; leaving the loop closes the stream. */
  events(): AsyncIterableIterator<ThreadEvent>;
  [Symbol.asyncIterator](): AsyncIterableIterator<ThreadEvent>;
}

/** A `ThreadStream` shared by the tabs of an origin. */
export class SharedThreadStream extends SharedStreamBase {
  constructor(options: ThreadStreamOptions & ShareOptions);
}

/** A `SessionStream` shared by the tabs of an origin. */
export class SharedSessionStream extends SharedStreamBase {
  constructor(options: SessionStreamOptions & ShareOptions);
}
